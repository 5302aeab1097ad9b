// Differential-test helper: sends the same requests to the reference server (restate-server) and to
// perdure, normalises what a client sees (status, a few headers, JSON body) and compares the two.
//
// What is compared, per HTTP exchange:
//   status, content-type, x-restate-error-source, x-restate-id (numbered placeholder, so "same id as
//   before" is compared too), idempotency-expires (timestamp shape only), any extra headers a case
//   asks for, and the body: JSON after normalisation, otherwise the text.
// Normalisation: invocation ids become <inv#n> and deployment ids <dp#n>, numbered per side in order
// of appearance within one case; RFC 3339 timestamps become their shape (e.g. <ts.fffffffffZ>);
// `stacktrace` values become <stacktrace>; arrays are sorted (admin handler lists have no stable
// order). Error messages (`message` of an error-shaped JSON body, or a text body of a >= 400
// response) are compared separately and only reported, unless a case sets `exactMessage`.
//
// Each case has an id. A case whose observations differ fails, unless its id is in the file's
// exceptions table (a known difference, with its reason): then it passes and is reported. A listed
// case that matches fails too, so a fixed difference gets its exception removed.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import type { TestContext } from "node:test";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export type SideName = "reference" | "perdure";

/** One HTTP request/response as the client saw it (or the reason there was no response). */
export class Exchange {
  readonly request: string;
  readonly status: number | undefined;
  readonly headers: Headers;
  readonly text: string;
  /** Why there was no response (timeout, connection error). */
  readonly error: string | undefined;

  constructor(request: string, status: number | undefined, headers: Headers, text: string, error?: string) {
    this.request = request;
    this.status = status;
    this.headers = headers;
    this.text = text;
    this.error = error;
  }

  /** Parsed body; undefined when empty or not JSON. */
  get json(): Json | undefined {
    if (this.text === "") return undefined;
    try {
      return JSON.parse(this.text) as Json;
    } catch {
      return undefined;
    }
  }

  /** The x-restate-id header, or "" when absent. */
  get id(): string {
    return this.headers.get("x-restate-id") ?? "";
  }

  /** `invocationId` of a 202 send response, or "". */
  get invocationId(): string {
    const body = this.json;
    if (body && typeof body === "object" && !Array.isArray(body) && typeof body.invocationId === "string") return body.invocationId;
    return "";
  }
}

export type RequestOptions = {
  method?: string;
  /** Serialised with JSON.stringify; sent with content-type application/json unless `headers` has one. */
  json?: unknown;
  /** Raw body, sent as bytes (so fetch adds no content-type of its own). */
  body?: string | Uint8Array;
  headers?: Record<string, string>;
  /** Give up after this long and record "no response" (default 8 s). */
  timeoutMs?: number;
};

const DEFAULT_TIMEOUT_MS = 8000;

export async function send(baseUrl: string, pathAndQuery: string, opts: RequestOptions = {}): Promise<Exchange> {
  const headers: Record<string, string> = { ...opts.headers };
  let body: Uint8Array | undefined = typeof opts.body === "string" ? new TextEncoder().encode(opts.body) : opts.body;
  if (opts.json !== undefined) {
    body = new TextEncoder().encode(JSON.stringify(opts.json));
    if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) headers["content-type"] = "application/json";
  }
  const method = opts.method ?? (body === undefined ? "GET" : "POST");
  const label = `${method} ${pathAndQuery}`;
  try {
    const response = await fetch(baseUrl + pathAndQuery, {
      method,
      headers,
      redirect: "manual",
      signal: AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      ...(body !== undefined ? { body } : {}),
    });
    const text = await response.text();
    return new Exchange(label, response.status, response.headers, text);
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const reason = e.name === "TimeoutError" ? "no response (timeout)" : `no response (${e.cause?.code ?? e.message})`;
    return new Exchange(label, undefined, new Headers(), "", reason);
  }
}

/** One server under test, with per-case scratch variables for multi-step sequences. */
export class Side {
  readonly name: SideName;
  readonly ingressUrl: string;
  readonly adminUrl: string;
  /** Values a sequence keeps between steps (ids, keys), separately per side. */
  readonly vars = new Map<string, string>();

  constructor(name: SideName, ingressUrl: string, adminUrl: string) {
    this.name = name;
    this.ingressUrl = ingressUrl;
    this.adminUrl = adminUrl;
  }

  ingress(pathAndQuery: string, opts?: RequestOptions): Promise<Exchange> {
    return send(this.ingressUrl, pathAndQuery, opts);
  }

  admin(pathAndQuery: string, opts?: RequestOptions): Promise<Exchange> {
    return send(this.adminUrl, pathAndQuery, opts);
  }

  /** A stored variable; throws when a previous step did not store it. */
  get(name: string): string {
    const value = this.vars.get(name);
    if (value === undefined) throw new Error(`${this.name}: no value stored for '${name}' (did an earlier step fail?)`);
    return value;
  }
}

/** What a case returns: one exchange, or labelled exchanges and derived JSON values. */
export type Outcome = Exchange | { [label: string]: Exchange | Json | undefined };

export type CaseOptions = {
  /** Extra response headers to compare (normalised like bodies). */
  headers?: string[];
  /**
   * Compare error messages exactly (for messages written by the handler, not by the server): all
   * exchanges of the case, or only those with the given labels.
   */
  exactMessage?: boolean | string[];
  /** Run both sides at the same time instead of one after the other (cases that wait). */
  parallel?: boolean;
  /**
   * Sanity checks of the reference's answer against the behaviour document, so a broken harness
   * cannot make both sides "match": the expected status of the single exchange, or per label.
   */
  refStatus?: number | Record<string, number>;
};

// ---------------------------------------------------------------------------------------------
// normalisation

const INVOCATION_ID = /inv_1[0-9a-zA-Z]{33}/g;
const DEPLOYMENT_ID = /dp_1[0-9a-zA-Z]{22}/g;
const TIMESTAMP = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})/g;

function timestampShape(_m: string, frac: string | undefined, zone: string): string {
  return `<ts${frac ? "." + "f".repeat(frac.length - 1) : ""}${zone}>`;
}

/** Numbers ids in order of first appearance; one per side per case. */
class Numbering {
  private readonly inv = new Map<string, number>();
  private readonly dp = new Map<string, number>();

  string(s: string): string {
    return s
      .replace(INVOCATION_ID, (id) => `<inv#${number(this.inv, id)}>`)
      .replace(DEPLOYMENT_ID, (id) => `<dp#${number(this.dp, id)}>`)
      .replace(TIMESTAMP, timestampShape);
  }

  json(value: Json): Json {
    if (typeof value === "string") return this.string(value);
    if (Array.isArray(value)) return sortArray(value.map((v) => this.json(v)));
    if (value && typeof value === "object") {
      const out: { [key: string]: Json } = {};
      for (const key of Object.keys(value).sort()) {
        const v = value[key] as Json;
        out[key] = key === "stacktrace" && typeof v === "string" ? "<stacktrace>" : this.json(v);
      }
      return out;
    }
    return value;
  }
}

function number(map: Map<string, number>, id: string): number {
  let n = map.get(id);
  if (n === undefined) {
    n = map.size + 1;
    map.set(id, n);
  }
  return n;
}

/** Messages: ids and timestamps replaced without numbering (wording may mention ids in other places). */
function genericString(s: string): string {
  return s.replace(INVOCATION_ID, "<inv>").replace(DEPLOYMENT_ID, "<dp>").replace(TIMESTAMP, timestampShape);
}

function sortArray(values: Json[]): Json[] {
  return [...values].sort((a, b) => {
    const ka = sortKey(a);
    const kb = sortKey(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

function sortKey(v: Json): string {
  if (v && typeof v === "object" && !Array.isArray(v) && typeof v.name === "string") return "name:" + v.name;
  return JSON.stringify(v);
}

function isErrorShaped(body: Json | undefined): body is { [key: string]: Json } {
  return (
    !!body &&
    typeof body === "object" &&
    !Array.isArray(body) &&
    typeof body.message === "string" &&
    ("code" in body || "restate_code" in body || "source" in body || Object.keys(body).length === 1)
  );
}

type Observed = { observation: { [label: string]: Json }; messages: { [label: string]: string } };

function observeExchange(ex: Exchange, ids: Numbering, opts: CaseOptions, exactMessage: boolean): { value: Json; message?: string } {
  if (ex.error !== undefined) return { value: { error: ex.error } };
  const out: { [key: string]: Json } = { status: ex.status ?? null };
  const header = (name: string) => ex.headers.get(name);
  out["content-type"] = header("content-type");
  out["x-restate-error-source"] = header("x-restate-error-source");
  const id = header("x-restate-id");
  out["x-restate-id"] = id === null ? null : ids.string(id);
  const expires = header("idempotency-expires");
  out["idempotency-expires"] = expires === null ? null : ids.string(expires);
  for (const name of opts.headers ?? []) {
    const v = header(name);
    out[name] = v === null ? null : ids.string(v);
  }
  let message: string | undefined;
  const body = ex.json;
  if (ex.text === "") {
    out.body = "<empty>";
  } else if (body === undefined) {
    if ((ex.status ?? 0) >= 400 && !exactMessage) {
      out.body = "<text>";
      message = genericString(ex.text);
    } else {
      out.body = { text: ids.string(ex.text) };
    }
  } else if (isErrorShaped(body) && !exactMessage) {
    const { message: m, ...rest } = body;
    message = genericString(m as string);
    out.body = ids.json({ ...rest, message: "<message>" });
  } else {
    out.body = ids.json(body);
  }
  return message === undefined ? { value: out } : { value: out, message };
}

function observe(outcome: Outcome, opts: CaseOptions): Observed {
  const ids = new Numbering();
  const observation: { [label: string]: Json } = {};
  const messages: { [label: string]: string } = {};
  const entries: [string, Exchange | Json | undefined][] =
    outcome instanceof Exchange ? [["response", outcome]] : Object.entries(outcome);
  for (const [label, value] of entries) {
    if (value instanceof Exchange) {
      const exact = Array.isArray(opts.exactMessage) ? opts.exactMessage.includes(label) : opts.exactMessage === true;
      const { value: v, message } = observeExchange(value, ids, opts, exact);
      observation[label] = v;
      if (message !== undefined) messages[label] = message;
    } else {
      observation[label] = value === undefined ? "<undefined>" : ids.json(value);
    }
  }
  return { observation, messages };
}

/** Flattens JSON to path → leaf (JSON text); "{}"/"[]" mark empty containers. */
function flatten(value: Json, prefix: string, out: Map<string, string>): Map<string, string> {
  if (Array.isArray(value)) {
    if (value.length === 0) out.set(prefix, "[]");
    value.forEach((v, i) => flatten(v, `${prefix}[${i}]`, out));
  } else if (value && typeof value === "object") {
    const keys = Object.keys(value);
    if (keys.length === 0) out.set(prefix, "{}");
    for (const key of keys) flatten(value[key] as Json, prefix === "" ? key : `${prefix}.${key}`, out);
  } else {
    out.set(prefix, JSON.stringify(value));
  }
  return out;
}

export type Difference = { path: string; reference: string; perdure: string };

export function differences(reference: Json, perdure: Json): Difference[] {
  const a = flatten(reference, "", new Map());
  const b = flatten(perdure, "", new Map());
  const paths = [...new Set([...a.keys(), ...b.keys()])];
  const out: Difference[] = [];
  for (const p of paths) {
    const ra = a.get(p) ?? "(absent)";
    const pb = b.get(p) ?? "(absent)";
    if (ra !== pb) out.push({ path: p, reference: ra, perdure: pb });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// the differ

export type CaseResult = {
  id: string;
  title: string;
  verdict: "match" | "known-difference" | "unexpected-difference" | "stale-exception";
  differences: Difference[];
  messageDifferences: Difference[];
  reason?: string;
  reference: { [label: string]: Json };
  perdure: { [label: string]: Json };
};

export type CaseFn = (side: Side) => Promise<Outcome>;

export class Differ {
  readonly reference: Side;
  readonly perdure: Side;
  readonly results: CaseResult[] = [];
  private readonly exceptions: Readonly<Record<string, string>>;
  private readonly seen = new Set<string>();

  constructor(reference: Side, perdure: Side, exceptions: Readonly<Record<string, string>>) {
    this.reference = reference;
    this.perdure = perdure;
    this.exceptions = exceptions;
  }

  /** Runs `fn` on both sides (reference first), compares, records, and fails on an unexpected difference. */
  async check(id: string, title: string, fn: CaseFn, opts: CaseOptions = {}): Promise<CaseResult> {
    assert.ok(!this.seen.has(id), `duplicate case id ${id}`);
    this.seen.add(id);
    // A side whose steps throw (e.g. an id an earlier step should have returned is missing) is
    // recorded as that error, so it shows up as a difference like any other.
    const run = (side: Side): Promise<Outcome> =>
      fn(side).catch((err: unknown) => ({ thrown: err instanceof Error ? err.message : String(err) }));
    let refOutcome: Outcome;
    let perdureOutcome: Outcome;
    if (opts.parallel) {
      [refOutcome, perdureOutcome] = await Promise.all([run(this.reference), run(this.perdure)]);
    } else {
      refOutcome = await run(this.reference);
      perdureOutcome = await run(this.perdure);
    }
    checkReference(id, refOutcome, opts);

    const ref = observe(refOutcome, opts);
    const per = observe(perdureOutcome, opts);
    const diffs = differences(ref.observation, per.observation);
    const messageDiffs = differences(ref.messages, per.messages).map((d) => ({ ...d, path: `${d.path}.message` }));
    const reason = this.exceptions[id];
    const verdict: CaseResult["verdict"] =
      diffs.length === 0 ? (reason === undefined ? "match" : "stale-exception") : reason === undefined ? "unexpected-difference" : "known-difference";
    const result: CaseResult = {
      id,
      title,
      verdict,
      differences: diffs,
      messageDifferences: messageDiffs,
      ...(reason !== undefined ? { reason } : {}),
      reference: ref.observation,
      perdure: per.observation,
    };
    this.results.push(result);

    if (verdict === "unexpected-difference") {
      assert.fail(`${id} ${title}: perdure differs from the reference\n${formatDifferences(diffs)}\n${formatSides(result)}`);
    }
    if (verdict === "stale-exception") {
      assert.fail(`${id} ${title}: listed as a known difference ("${reason}") but perdure now matches; remove the exception`);
    }
    return result;
  }

  /** Ids in the exceptions table that no case used (typos, removed cases). */
  unusedExceptions(): string[] {
    return Object.keys(this.exceptions).filter((id) => !this.seen.has(id));
  }

  summary(): string {
    const count = (v: CaseResult["verdict"]) => this.results.filter((r) => r.verdict === v).length;
    const lines = [
      `compared ${this.results.length} cases: ${count("match")} matched, ${count("known-difference")} known differences, ` +
        `${count("unexpected-difference")} unexpected differences, ${count("stale-exception")} stale exceptions`,
    ];
    for (const r of this.results.filter((x) => x.verdict !== "match")) {
      lines.push(`  [${r.verdict}] ${r.id} ${r.title}${r.reason ? ` (${r.reason})` : ""}`);
      for (const d of r.differences) lines.push(`      ${d.path}: reference=${d.reference} perdure=${d.perdure}`);
    }
    const withMessages = this.results.filter((r) => r.messageDifferences.length > 0);
    if (withMessages.length > 0) lines.push(`message wording differs (informational) in ${withMessages.length} cases:`);
    for (const r of withMessages) {
      for (const d of r.messageDifferences) lines.push(`  ${r.id} ${d.path}: reference=${d.reference} perdure=${d.perdure}`);
    }
    return lines.join("\n");
  }

  /** Writes the results as JSON to $PERDURE_DIFF_REPORT_DIR/<name>.json when that variable is set. */
  async writeReport(name: string): Promise<void> {
    const dir = process.env.PERDURE_DIFF_REPORT_DIR;
    if (!dir) return;
    await writeFile(path.join(dir, `${name}.json`), JSON.stringify(this.results, null, 2) + "\n");
  }
}

function checkReference(id: string, outcome: Outcome, opts: CaseOptions): void {
  if (opts.refStatus === undefined) return;
  const expected: Record<string, number> = typeof opts.refStatus === "number" ? { response: opts.refStatus } : opts.refStatus;
  for (const [label, status] of Object.entries(expected)) {
    const ex = outcome instanceof Exchange ? (label === "response" ? outcome : undefined) : outcome[label];
    assert.ok(ex instanceof Exchange, `${id}: no exchange labelled '${label}'`);
    assert.equal(
      ex.status,
      status,
      `${id}: the reference answered ${ex.request} with ${ex.status ?? ex.error} (behaviour doc: ${status}); body ${ex.text}`,
    );
  }
}

function formatDifferences(diffs: Difference[]): string {
  return diffs.map((d) => `  ${d.path}: reference=${d.reference} perdure=${d.perdure}`).join("\n");
}

function formatSides(r: CaseResult): string {
  return `reference: ${JSON.stringify(r.reference)}\nperdure:   ${JSON.stringify(r.perdure)}`;
}

/** Runs one case inside test `t`, adding a diagnostic when it is a known difference. */
export async function runCase(t: TestContext, differ: Differ, id: string, title: string, fn: CaseFn, opts?: CaseOptions): Promise<void> {
  const r = await differ.check(id, title, fn, opts);
  if (r.verdict === "known-difference") {
    t.diagnostic(`known difference: ${r.reason}`);
    for (const line of formatDifferences(r.differences).split("\n")) t.diagnostic(line);
  }
  for (const d of r.messageDifferences) t.diagnostic(`message differs (informational) ${d.path}: reference=${d.reference} perdure=${d.perdure}`);
}
