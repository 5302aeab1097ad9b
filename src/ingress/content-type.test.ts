// Table tests of content-type matching (restate-ingress-admin-behaviour.md §1.13-1.20): exact media types,
// case-sensitive as the reference is, parameters ignored on either side, `type/*` and `*/*` wildcards.
import { test } from "node:test";
import assert from "node:assert/strict";
import { contentTypeMatches } from "./content-type.ts";

function check(cases: ReadonlyArray<readonly [accepted: string, actual: string, matches: boolean]>): void {
  for (const [accepted, actual, matches] of cases) {
    assert.equal(contentTypeMatches(accepted, actual), matches, `${JSON.stringify(actual)} against ${JSON.stringify(accepted)}`);
  }
}

test("the same media type matches; a different one does not", () => {
  check([
    ["application/json", "application/json", true],
    ["application/octet-stream", "application/octet-stream", true],
    ["application/json", "text/plain", false],
    ["application/json", "application/vnd.api+json", false],
    ["application/json", "application/jsonx", false],
    ["application/json", "application", false],
    ["application/json", "", false],
  ]);
});

test("matching is case-sensitive, as in the reference (§1.15)", () => {
  check([
    ["application/json", "APPLICATION/JSON", false],
    ["application/json", "Application/Json", false],
    ["text/*", "TEXT/plain", false],
  ]);
});

test("parameters are ignored on the request and on the accepted range (§1.17)", () => {
  check([
    ["application/json", "application/json; charset=utf-8", true],
    ["application/json", "application/json;charset=UTF-8", true],
    ["application/json", "application/json ; charset=utf-8", true],
    ["application/json; charset=utf-8", "application/json", true],
    ["application/json", "text/plain; charset=utf-8", false],
  ]);
});

test("wildcards: */* accepts anything, type/* accepts that type only", () => {
  check([
    ["*/*", "text/plain", true],
    ["*/*", "application/octet-stream", true],
    ["*/*", "APPLICATION/whatever; x=y", true],
    ["text/*", "text/plain", true],
    ["text/*", "text/html; charset=utf-8", true],
    ["text/*", "application/text", false],
    ["text/*", "textual/plain", false],
    ["text/*", "text", false],
    ["application/*", "application/json", true],
  ]);
});

test("a list of accepted ranges matches any of them", () => {
  check([
    ["application/json, text/*", "text/csv", true],
    ["application/json, text/*", "application/json; charset=utf-8", true],
    ["application/json, text/*", "image/png", false],
  ]);
});
