import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DurationParseError,
  formatDuration,
  formatIsoDuration,
  formatRfc3339Millis,
  formatRfc3339Nanos,
  formatRfc3339Offset,
  parseDuration,
} from "./durations.ts";

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

function assertParseError(text: string, message: string | RegExp): void {
  assert.throws(
    () => parseDuration(text),
    (err: unknown) =>
      err instanceof DurationParseError &&
      (typeof message === "string" ? err.message === message : message.test(err.message)),
    `${JSON.stringify(text)} should fail with ${String(message)}`,
  );
}

test("ISO 8601 durations", () => {
  const cases: [string, number][] = [
    ["PT10S", 10 * S],
    ["PT1S", S],
    ["P1D", D],
    ["PT1H30M", H + 30 * M],
    ["PT0.5S", 500],
    ["PT0,5S", 500],
    ["P1DT2H", D + 2 * H],
    ["pt1s", S],
    ["Pt1H", H],
    ["P1W", 7 * D],
    ["P1W2D", 9 * D],
    ["PT3H", 3 * H],
    ["PT86400S", D],
    ["PT1.5H", H + 30 * M],
    ["PT0S", 0],
    ["+PT1S", S],
    ["-PT0S", 0],
    ["P2DT3H4M5.006S", 2 * D + 3 * H + 4 * M + 5 * S + 6],
    ["PT0.0004S", 0],
    ["PT0.0005S", 1],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

test("friendly durations", () => {
  const cases: [string, number][] = [
    ["10s", 10 * S],
    ["500ms", 500],
    ["1h30m", H + 30 * M],
    ["1h 30m", H + 30 * M],
    ["1h, 30m", H + 30 * M],
    ["2m", 2 * M],
    ["0s", 0],
    ["1 second", S],
    ["2 seconds", 2 * S],
    ["3 minutes", 3 * M],
    ["1 hour", H],
    ["1 hour 30 minutes", H + 30 * M],
    ["2days", 2 * D],
    ["2 days", 2 * D],
    ["1d", D],
    ["1w", 7 * D],
    ["2 weeks", 14 * D],
    ["1.5h", H + 30 * M],
    ["100 milliseconds", 100],
    ["10sec", 10 * S],
    ["10secs", 10 * S],
    ["5min", 5 * M],
    ["5mins", 5 * M],
    ["1hr", H],
    ["1hrs", H],
    ["3d 4h", 3 * D + 4 * H],
    ["1500us", 2],
    ["1499µs", 1],
    ["1499μs", 1],
    ["2000000ns", 2],
    ["400ns", 0],
    ["1s 500ms", 1500],
    ["1m1s1ms", M + S + 1],
    ["  1s  ", S],
    ["+1s", S],
    ["-0s", 0],
    ["1H", H],
    ["1MS", 1],
    ["0.001s", 1],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

test("reference error messages", () => {
  assertParseError("", `an empty string is not a valid duration in either the ISO 8601 format or Jiff's "friendly" format`);
  assertParseError("   ", /^an empty string is not a valid duration/);
  assertParseError(
    "1500",
    'failed to parse input in the "friendly" duration format: expected to find unit designator suffix (e.g., `years` or `secs`) after parsing integer',
  );
  assertParseError(
    "abc",
    'failed to parse input in the "friendly" duration format: expected duration to start with a unit value (a decimal integer) after an optional sign, but no integer was found',
  );
  assertParseError("forever", /^failed to parse input in the "friendly" duration format: expected duration to start/);
  assertParseError("-1s", "negative signed durations cannot be converted to an unsigned duration");
  assertParseError("-PT1S", "negative signed durations cannot be converted to an unsigned duration");
  assertParseError("1s ago", "negative signed durations cannot be converted to an unsigned duration");
});

test("other malformed durations", () => {
  assertParseError("10x", /unrecognized unit designator `x`/);
  assertParseError("10 fortnights", /unrecognized unit designator `fortnights`/);
  assertParseError("1s 2", /expected to find unit designator suffix/);
  assertParseError("1s x", /unexpected input `x`/);
  assertParseError("1s1s", /largest to smallest/);
  assertParseError("1m 1h", /largest to smallest/);
  assertParseError("1.5h 30m", /only the smallest \(last\) unit may have a fractional value/);
  assertParseError("1.s", /unexpected input|unit designator/);
  assertParseError(".5s", /expected duration to start with a unit value/);
  assertParseError("1 year", /years and months/);
  assertParseError("2mo", /years and months/);
  assertParseError("-1s ago", /sign and the `ago` suffix/);
  assertParseError("P", /ISO 8601.*at least one unit/);
  assertParseError("PT", /ISO 8601.*at least one unit/);
  assertParseError("P1DT", /ISO 8601.*after `T`/);
  assertParseError("P1Y", /years and months/);
  assertParseError("P1M", /years and months/);
  assertParseError("PT1X", /ISO 8601.*unrecognized time unit designator `X`/);
  assertParseError("P1H", /ISO 8601.*unrecognized date unit designator `H`/);
  assertParseError("PT1S2", /ISO 8601.*expected a unit designator/);
  assertParseError("PT1S1M", /largest to smallest/);
  assertParseError("PT1.5H30M", /only the smallest/);
  assertParseError("PTT1S", /second time designator/);
  assertParseError("PT 1S", /ISO 8601.*expected a number/);
  assertParseError("P1D1D", /largest to smallest/);
  assertParseError("99999999999999999999d", /too large/);
});

test("formatDuration writes the compact friendly form", () => {
  const cases: [number, string][] = [
    [0, "0s"],
    [1, "1ms"],
    [500, "500ms"],
    [S, "1s"],
    [1500, "1s 500ms"],
    [M, "1m"],
    [10 * M, "10m"],
    [H, "1h"],
    [H + 30 * M, "1h 30m"],
    [3 * H, "3h"],
    [D, "1d"],
    [2 * D, "2d"],
    [D + 12 * H, "1d 12h"],
    [7 * D, "7d"],
    [D + H + M + S + 1, "1d 1h 1m 1s 1ms"],
    [0.4, "0s"],
    [1.6, "2ms"],
  ];
  for (const [ms, text] of cases) assert.equal(formatDuration(ms), text, String(ms));
  assert.throws(() => formatDuration(-1), RangeError);
  assert.throws(() => formatDuration(Number.NaN), RangeError);
  assert.throws(() => formatDuration(Number.POSITIVE_INFINITY), RangeError);
});

test("reference normalisations: parse then format", () => {
  const cases: [string, string][] = [
    ["2days", "2d"],
    ["PT3H", "3h"],
    ["1 hour 30 minutes", "1h 30m"],
    ["P1D", "1d"],
    ["PT86400S", "1d"],
    ["500ms", "500ms"],
    ["1m", "1m"],
    ["PT0.5S", "500ms"],
  ];
  for (const [input, output] of cases) assert.equal(formatDuration(parseDuration(input)), output, input);
});

test("formatDuration output parses back to the same value", () => {
  for (const ms of [0, 1, 999, 1000, 61_001, 3_600_000, 86_400_000, 90_061_001, 123_456_789_012]) {
    assert.equal(parseDuration(formatDuration(ms)), ms);
  }
});

test("formatIsoDuration writes seconds", () => {
  assert.equal(formatIsoDuration(D), "PT86400S");
  assert.equal(formatIsoDuration(0), "PT0S");
  assert.equal(formatIsoDuration(500), "PT0.5S");
  assert.equal(formatIsoDuration(1_020), "PT1.02S");
  assert.equal(formatIsoDuration(1_001), "PT1.001S");
  for (const ms of [0, 1, 500, 1_020, D]) assert.equal(parseDuration(formatIsoDuration(ms)), ms);
  assert.throws(() => formatIsoDuration(-5), RangeError);
});

test("RFC 3339 timestamps in the reference's three precisions", () => {
  const t = Date.UTC(2026, 10, 28, 5, 40, 44, 433);
  assert.equal(formatRfc3339Nanos(t), "2026-11-28T05:40:44.433000000Z");
  assert.equal(formatRfc3339Millis(t), "2026-11-28T05:40:44.433Z");
  assert.equal(formatRfc3339Offset(Date.UTC(2026, 10, 29, 5, 41, 6, 477)), "2026-11-29T05:41:06.477+00:00");
  assert.equal(formatRfc3339Millis(Date.UTC(2026, 10, 28, 5, 43, 28, 770)), "2026-11-28T05:43:28.770Z");
  assert.equal(formatRfc3339Nanos(0), "1970-01-01T00:00:00Z", "a whole second has no fraction");
  assert.equal(formatRfc3339Nanos(Date.UTC(2026, 10, 28, 5, 40, 44)), "2026-11-28T05:40:44Z");
  assert.equal(formatRfc3339Nanos(Date.UTC(2026, 10, 28, 5, 40, 44, 1)), "2026-11-28T05:40:44.001000000Z");
  assert.equal(formatRfc3339Offset(0), "1970-01-01T00:00:00.000+00:00");
  assert.throws(() => formatRfc3339Millis(Number.NaN), RangeError);
  assert.throws(() => formatRfc3339Nanos(8.64e15), RangeError); // year 275760
});
