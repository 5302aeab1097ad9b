// A mixed client load for crash tests, and the checks that run after it. Used by mixed-load.test.ts.
//
// Each client loop issues one logical request after another, picked at random: calls and sends with
// idempotency keys (Greeter/greet), delayed sends (`/send?delay=300ms`, one in five `2s` so its timer crosses a
// crash), deposits to virtual objects (Counter/{acct}/add with a known amount, over a few accounts, as calls,
// sends and delayed sends), deposits made by a handler (Relay/deposit: a call or a delayed one-way send from the
// handler to Counter), handlers with `ctx.run` and `ctx.sleep` (Steps/twoStepsSleep, as calls and sends),
// workflows with a durable promise (Signup/{id}/run/send, then Signup/{id}/confirm), and attaches to requests
// acknowledged earlier. Every request carries a key of its own (the workflow id for a workflow run) and is
// retried with the same key on connection errors, timeouts and 5xx answers from the ingress, as a real client
// does; it counts as acknowledged when perdure answered 200 or 202. A few clients are impatient (one attempt,
// no retry: what they sent may or may not have been committed), and a few send their request twice at once.
//
// `verify` then attaches to every request by its key and checks:
// - lost: an acknowledged request whose invocation does not exist, or a balance below the sum of the deposits
//   that completed;
// - wrong: a result other than the one the request must produce, another invocation than acknowledged, a call
//   or an attach during the load that answered something else than the stored result;
// - doubled: a deposit applied more than once (each account's balance is the sum of its completed deposits,
//   and the balances the deposits returned chain from 0 without gaps or repeats), or a `ctx.run` closure that
//   executed again after its result was journaled (its execution count in the side-effect log is higher than
//   the count the journaled result carries), or that ran twice without a crash in between;
// - stuck: an attach that does not answer within the bound.
// A request that was never acknowledged may still have executed (the crash cut the answer, and the client
// gave up): attach by its key says whether it exists; if it does it is checked like the others, exactly once.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import { executionCount } from "../services/steps.ts";

/** A moment perdure went down: when the signal was sent, when the process had exited, when it was up again. */
export type Interruption = { readonly sentAt: number; readonly exitedAt: number; restartedAt: number };

/**
 * Stamps every execution of a `ctx.run` closure with the time it was first seen in the side-effect log (the
 * services run in this process, so a poll right before a kill sees every execution that happened before it).
 */
export class SideEffectClock {
  private readonly file: string;
  private offset = 0;
  private partial = "";
  private timer: NodeJS.Timeout | undefined;
  /** `"<id> <step>"` -> time of each execution, in order. */
  readonly seenAt = new Map<string, number[]>();

  constructor(file: string) {
    this.file = file;
  }

  start(intervalMs = 10): void {
    this.timer ??= setInterval(() => this.poll(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.poll();
  }

  /** Reads what was appended since the last poll. */
  poll(): void {
    let fd: number;
    try {
      fd = openSync(this.file, "r");
    } catch {
      return;
    }
    try {
      const size = fstatSync(fd).size;
      if (size <= this.offset) return;
      const buf = Buffer.alloc(size - this.offset);
      const n = readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += n;
      const parts = (this.partial + buf.subarray(0, n).toString("utf8")).split("\n");
      this.partial = parts.pop() ?? "";
      const now = Date.now();
      for (const line of parts) {
        if (line === "") continue;
        const times = this.seenAt.get(line) ?? [];
        times.push(now);
        this.seenAt.set(line, times);
      }
    } finally {
      closeSync(fd);
    }
  }
}

export type OpKind =
  | "greet-call"
  | "greet-send"
  | "greet-delayed"
  | "deposit-call"
  | "deposit-send"
  | "deposit-delayed"
  | "relay-call"
  | "relay-send"
  | "steps-call"
  | "steps-send"
  | "signup-run"
  | "signup-confirm";

/** One logical request: one key, any number of HTTP attempts. */
export type Op = {
  readonly seq: number;
  readonly kind: OpKind;
  /** The idempotency key, or the workflow id for a workflow run. */
  readonly key: string;
  readonly path: string;
  readonly body: unknown;
  readonly headers: Record<string, string>;
  /** Where to attach to its invocation (relative to the ingress). */
  readonly attachPath: string;
  /** The result the invocation must produce (deposits: checked by the balance chain instead). */
  readonly expected: unknown;
  /** Deposits: the account and the amount. */
  readonly account?: string;
  readonly amount?: number;
  /** Steps: the logical run id used in the side-effect log. */
  readonly stepsId?: string;
  readonly sentAt: number;
  attempts: number;
  acknowledged: boolean;
  ackStatus?: number;
  ackBody?: unknown;
  ackInvocationId?: string;
  /** A final answer that was neither an acknowledgement nor retryable (a 4xx, or a failed invocation). */
  rejected?: { status: number; text: string };
  lastError?: string;
  /** An impatient client: one attempt, no retry (what it sent may or may not have been committed). */
  impatient?: boolean;
  /** A second, concurrent submission of the same request (a client retrying while its first try is in flight). */
  duplicate?: { status?: number; body?: unknown; invocationId?: string; error?: string };
  /** Answers of attaches made during the load (by other clients). */
  observed?: Array<{ status: number; body: unknown; invocationId: string | undefined }>;
};

export type LoadOptions = {
  /** Ingress base URL (stays the same across restarts). */
  ingressUrl: string;
  clients: number;
  /** Object keys the deposits go to. */
  accounts: readonly string[];
  /** Tag that makes every key of this load unique. */
  tag: string;
  /** After stop, how long a client keeps retrying its request in flight before it gives up. */
  giveUpAfterStopMs?: number;
  /** Timeout of one HTTP attempt; a timed-out attempt is retried. */
  attemptTimeoutMs?: number;
  /** Share of requests whose client gives up after the first failed attempt (default 0.05). */
  impatientShare?: number;
  /** Share of requests submitted twice at once (default 0.05). */
  duplicateShare?: number;
};

export type LoadFigures = {
  requests: number;
  httpAttempts: number;
  acknowledged: number;
  rejected: number;
  gaveUp: number;
  retriedRequests: number;
  attemptTimeouts: number;
  impatient: number;
  duplicated: number;
  attachesDuringLoad: number;
  byKind: Record<string, number>;
};

type PickedKind = Exclude<OpKind, "signup-run" | "signup-confirm"> | "signup" | "reattach";

const WEIGHTS: ReadonlyArray<readonly [PickedKind, number]> = [
  ["greet-call", 2],
  ["greet-send", 1],
  ["greet-delayed", 1],
  ["deposit-call", 3],
  ["deposit-send", 2],
  ["deposit-delayed", 1],
  ["steps-call", 1],
  ["steps-send", 1],
  ["relay-call", 1],
  ["relay-send", 1],
  ["signup", 1],
  ["reattach", 1],
];
const TOTAL_WEIGHT = WEIGHTS.reduce((s, [, w]) => s + w, 0);
const JSON_HEADERS = { "content-type": "application/json" };

function pickKind(): PickedKind {
  let r = Math.random() * TOTAL_WEIGHT;
  for (const [kind, w] of WEIGHTS) {
    r -= w;
    if (r < 0) return kind;
  }
  return "greet-call";
}

const randInt = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));

/** Mostly 300 ms; one in five waits 2 s, long enough for its timer to cross a crash. */
const delayParam = () => (Math.random() < 0.2 ? "2s" : "300ms");

export class MixedLoad {
  readonly ops: Op[] = [];
  private readonly opts: Required<LoadOptions>;
  private seq = 0;
  private stoppedAt: number | undefined;
  private loops: Promise<void>[] = [];
  attemptTimeouts = 0;
  /** Attach requests made during the load (attempts included). */
  reattaches = 0;

  constructor(opts: LoadOptions) {
    this.opts = { giveUpAfterStopMs: 20_000, attemptTimeoutMs: 10_000, impatientShare: 0.05, duplicateShare: 0.05, ...opts };
  }

  start(): void {
    for (let i = 0; i < this.opts.clients; i++) this.loops.push(this.clientLoop());
  }

  /** Stops starting new requests and waits until every client finished (acknowledged or gave up). */
  async stop(): Promise<void> {
    this.stoppedAt ??= Date.now();
    await Promise.all(this.loops);
  }

  /** Ends the load at once (a failed test): the clients give up their requests in flight. */
  async abort(): Promise<void> {
    this.opts.giveUpAfterStopMs = 0;
    await this.stop();
  }

  figures(): LoadFigures {
    const byKind: Record<string, number> = {};
    for (const op of this.ops) byKind[op.kind] = (byKind[op.kind] ?? 0) + 1;
    return {
      requests: this.ops.length,
      httpAttempts: this.ops.reduce((s, op) => s + op.attempts, 0),
      acknowledged: this.ops.filter((op) => op.acknowledged).length,
      rejected: this.ops.filter((op) => op.rejected).length,
      gaveUp: this.ops.filter((op) => !op.acknowledged && !op.rejected).length,
      retriedRequests: this.ops.filter((op) => op.attempts > 1).length,
      attemptTimeouts: this.attemptTimeouts,
      impatient: this.ops.filter((op) => op.impatient).length,
      duplicated: this.ops.filter((op) => op.duplicate).length,
      attachesDuringLoad: this.reattaches,
      byKind,
    };
  }

  private async clientLoop(): Promise<void> {
    // Stagger the clients a little so they do not move in lockstep.
    await delay(randInt(0, 50));
    while (this.stoppedAt === undefined) {
      const kind = pickKind();
      if (kind === "signup") await this.signup();
      else if (kind === "reattach") await this.reattach();
      else await this.request(this.makeOp(kind));
    }
  }

  private nextKey(kind: string): string {
    return `${this.opts.tag}-${kind}-${++this.seq}`;
  }

  private newOp(fields: Omit<Op, "seq" | "sentAt" | "attempts" | "acknowledged">): Op {
    const op: Op = { ...fields, seq: this.seq, sentAt: Date.now(), attempts: 0, acknowledged: false };
    if (Math.random() < this.opts.impatientShare) op.impatient = true;
    else if (Math.random() < this.opts.duplicateShare) op.duplicate = {};
    this.ops.push(op);
    return op;
  }

  /**
   * Attaches to an invocation acknowledged earlier, retrying like any client: what it answers (during the
   * crashes) must be what the final check finds. Workflow runs are left out (they wait for their confirm).
   */
  private async reattach(): Promise<void> {
    const candidates = this.ops.filter((op) => op.acknowledged && op.kind !== "signup-run");
    const op = candidates[randInt(0, candidates.length - 1)];
    if (!op) return;
    let backoff = 25;
    while (Date.now() < this.giveUpAt()) {
      this.reattaches++;
      try {
        const response = await fetch(this.opts.ingressUrl + op.attachPath, { signal: AbortSignal.timeout(this.opts.attemptTimeoutMs) });
        const text = await response.text();
        if (response.status < 500) {
          (op.observed ??= []).push({ status: response.status, body: parseJson(text), invocationId: response.headers.get("x-restate-id") ?? undefined });
          return;
        }
      } catch {
        // perdure is down: retry
      }
      if (this.stoppedAt !== undefined) return;
      await delay(backoff + randInt(0, backoff));
      backoff = Math.min(backoff * 2, 400);
    }
  }

  private makeOp(kind: Exclude<PickedKind, "signup" | "reattach">): Op {
    const key = this.nextKey(kind);
    const idem = { ...JSON_HEADERS, "idempotency-key": key };
    switch (kind) {
      case "greet-call":
      case "greet-send":
      case "greet-delayed": {
        const suffix = kind === "greet-call" ? "" : kind === "greet-send" ? "/send" : `/send?delay=${delayParam()}`;
        return this.newOp({
          kind,
          key,
          path: `/Greeter/greet${suffix}`,
          body: { name: key },
          headers: idem,
          attachPath: `/restate/invocation/Greeter/greet/${key}/attach`,
          expected: "Hello " + key.toUpperCase(),
        });
      }
      case "deposit-call":
      case "deposit-send":
      case "deposit-delayed": {
        const account = this.opts.accounts[randInt(0, this.opts.accounts.length - 1)]!;
        const amount = randInt(1, 1000);
        const suffix = kind === "deposit-call" ? "" : kind === "deposit-send" ? "/send" : `/send?delay=${delayParam()}`;
        return this.newOp({
          kind,
          key,
          path: `/Counter/${account}/add${suffix}`,
          body: amount,
          headers: idem,
          attachPath: `/restate/invocation/Counter/${account}/add/${key}/attach`,
          expected: undefined,
          account,
          amount,
        });
      }
      case "relay-call":
      case "relay-send": {
        const account = this.opts.accounts[randInt(0, this.opts.accounts.length - 1)]!;
        const amount = randInt(1, 1000);
        return this.newOp({
          kind,
          key,
          path: "/Relay/deposit",
          body: { acct: account, amount, mode: kind === "relay-call" ? "call" : "send" },
          headers: idem,
          attachPath: `/restate/invocation/Relay/deposit/${key}/attach`,
          expected: undefined,
          account,
          amount,
        });
      }
      case "steps-call":
      case "steps-send":
        return this.newOp({
          kind,
          key,
          path: `/Steps/twoStepsSleep${kind === "steps-send" ? "/send" : ""}`,
          body: { id: key, waitMs: randInt(50, 400) },
          headers: idem,
          attachPath: `/restate/invocation/Steps/twoStepsSleep/${key}/attach`,
          expected: { first: 1, second: 1 },
          stepsId: key,
        });
    }
  }

  /** A workflow: run/send (idempotent by the workflow id), then resolve its promise with confirm (own key). */
  private async signup(): Promise<void> {
    const wf = this.nextKey("wf");
    const value = `v-${wf}`;
    const run = this.newOp({
      kind: "signup-run",
      key: wf,
      path: `/Signup/${wf}/run/send`,
      body: wf,
      headers: JSON_HEADERS,
      attachPath: `/restate/workflow/Signup/${wf}/attach`,
      expected: { result: `done ${value}`, input: wf },
    });
    await this.request(run);
    if (!run.acknowledged) return;
    const confirmKey = `${wf}-confirm`;
    await this.request(
      this.newOp({
        kind: "signup-confirm",
        key: confirmKey,
        path: `/Signup/${wf}/confirm`,
        body: value,
        headers: { ...JSON_HEADERS, "idempotency-key": confirmKey },
        attachPath: `/restate/invocation/Signup/${wf}/confirm/${confirmKey}/attach`,
        expected: "confirmed",
      }),
    );
  }

  private giveUpAt(): number {
    return this.stoppedAt === undefined ? Infinity : this.stoppedAt + this.opts.giveUpAfterStopMs;
  }

  private post(op: Op): Promise<Response> {
    return fetch(this.opts.ingressUrl + op.path, {
      method: "POST",
      headers: op.headers,
      body: JSON.stringify(op.body),
      signal: AbortSignal.timeout(this.opts.attemptTimeoutMs),
    });
  }

  /** The concurrent twin of a duplicated request: one attempt, its answer kept for the checks. */
  private async duplicate(op: Op): Promise<void> {
    const dup = op.duplicate!;
    try {
      const response = await this.post(op);
      const text = await response.text();
      dup.status = response.status;
      dup.body = parseJson(text);
      dup.invocationId = response.headers.get("x-restate-id") ?? undefined;
    } catch (err) {
      dup.error = describeError(err);
    }
  }

  /** Sends `op` until perdure acknowledges it (200/202), answers for good, or the client gives up. */
  async request(op: Op): Promise<void> {
    const twin = op.duplicate ? this.duplicate(op) : undefined;
    try {
      await this.attempts(op);
    } finally {
      await twin;
    }
  }

  private async attempts(op: Op): Promise<void> {
    let backoff = 25;
    for (;;) {
      op.attempts++;
      try {
        const response = await this.post(op);
        const text = await response.text();
        if (response.status === 200 || response.status === 202) {
          op.acknowledged = true;
          op.ackStatus = response.status;
          op.ackBody = parseJson(text);
          op.ackInvocationId = response.headers.get("x-restate-id") ?? undefined;
          return;
        }
        // A 5xx from the ingress itself (shutting down, internal error) is retried; an invocation that ended
        // with a failure is a final answer (retrying with the key would only replay it).
        if (response.status < 500 || response.headers.get("x-restate-error-source") === "invocation") {
          op.rejected = { status: response.status, text };
          return;
        }
        op.lastError = `HTTP ${response.status}: ${text}`;
      } catch (err) {
        if ((err as Error).name === "TimeoutError") this.attemptTimeouts++;
        op.lastError = describeError(err);
      }
      if (op.impatient || Date.now() >= this.giveUpAt()) return;
      await delay(backoff + randInt(0, backoff));
      backoff = Math.min(backoff * 2, 400);
    }
  }
}

export type Problem = { kind: "lost" | "wrong" | "doubled" | "stuck" | "rejected"; op?: Op; detail: string };

export type VerifyFigures = {
  /** Requests whose invocation was looked up by key after the load. */
  checked: number;
  /** Invocations sent by handlers (Relay's deposits), looked up by the id the handler returned. */
  childrenChecked: number;
  /** Invocations found completed with their result (acknowledged or not). */
  completed: number;
  /** Requests never acknowledged whose invocation nevertheless exists and completed (counted once). */
  completedUnacknowledged: number;
  /** Requests never acknowledged that left no invocation (the crash came before the commit). */
  neverCreated: number;
  lost: number;
  doubled: number;
  stuck: number;
  wrong: number;
  depositsApplied: number;
  accountsChecked: number;
  stepsChecked: number;
  /** `ctx.run` closures that ran again because a crash came before their result was committed (allowed). */
  stepReRunsBeforeCommit: number;
  /** For those: when the lost executions ran, relative to the crash signal that cut them off (ms; negative: before). */
  reRunWindowMs: { earliest: number; latest: number } | undefined;
  problems: Problem[];
};

export type VerifyOptions = {
  ingressUrl: string;
  accounts: readonly string[];
  /** Every attach must answer within this bound (from the start of the verification). */
  stuckBoundMs: number;
  /** Side-effect log of the Steps service. */
  sideEffectLog: string;
  /** When perdure was killed or stopped; a step may only have re-run across one of these. */
  interruptions: readonly Interruption[];
  /** Execution times of the steps (from the side-effect log). */
  clock: SideEffectClock;
  concurrency?: number;
};

type AttachOutcome =
  | { kind: "ok"; status: number; json: unknown; text: string; invocationId: string | null }
  | { kind: "timeout" }
  | { kind: "error"; detail: string };

async function attach(url: string, deadline: number): Promise<AttachOutcome> {
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return { kind: "timeout" };
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(remaining) });
      const text = await response.text();
      return { kind: "ok", status: response.status, json: parseJson(text), text, invocationId: response.headers.get("x-restate-id") };
    } catch (err) {
      if ((err as Error).name === "TimeoutError") return { kind: "timeout" };
      // perdure is up during the verification; a connection error is retried until the bound.
      await delay(50);
      if (Date.now() >= deadline) return { kind: "error", detail: describeError(err) };
    }
  }
}

/** Attaches to every request by its key and checks results, balances and step executions. */
export async function verify(ops: readonly Op[], opts: VerifyOptions): Promise<VerifyFigures> {
  const f: VerifyFigures = {
    checked: 0,
    childrenChecked: 0,
    completed: 0,
    completedUnacknowledged: 0,
    neverCreated: 0,
    lost: 0,
    doubled: 0,
    stuck: 0,
    wrong: 0,
    depositsApplied: 0,
    accountsChecked: 0,
    stepsChecked: 0,
    stepReRunsBeforeCommit: 0,
    reRunWindowMs: undefined,
    problems: [],
  };
  const problem = (p: Problem) => {
    f.problems.push(p);
    if (p.kind !== "rejected") f[p.kind]++;
  };
  for (const op of ops) if (op.rejected) problem({ kind: "rejected", op, detail: `answered ${op.rejected.status}: ${op.rejected.text}` });

  const deadline = Date.now() + opts.stuckBoundMs;
  const completedDeposits: Array<{ op: Op; balance: number }> = [];

  // A workflow run that exists but whose confirm was never acknowledged waits for it: confirm it first, as the
  // client would have (otherwise its attach would wait forever without perdure being at fault).
  const confirmed = new Set(ops.filter((op) => op.kind === "signup-confirm" && op.acknowledged).map((op) => op.key.replace(/-confirm$/, "")));
  for (const run of ops.filter((op) => op.kind === "signup-run" && !confirmed.has(op.key))) {
    const value = (run.expected as { result: string }).result.replace(/^done /, "");
    const res = await fetch(`${opts.ingressUrl}/Signup/${run.key}/confirm`, {
      method: "POST",
      headers: { ...JSON_HEADERS, "idempotency-key": `${run.key}-confirm` },
      body: JSON.stringify(value),
    }).catch(() => undefined);
    await res?.text();
  }

  const checkOne = async (op: Op) => {
    if (op.rejected) return;
    f.checked++;
    const res = await attach(opts.ingressUrl + op.attachPath, deadline);
    if (res.kind === "timeout") return problem({ kind: "stuck", op, detail: `attach did not answer within ${opts.stuckBoundMs} ms` });
    if (res.kind === "error") return problem({ kind: "stuck", op, detail: `attach failed: ${res.detail}` });
    const dupAcked = op.duplicate?.status === 200 || op.duplicate?.status === 202;
    if (res.status === 404 && !op.acknowledged && !dupAcked) {
      // Never created: the crash came before the commit and the client gave up. Nothing may have run.
      f.neverCreated++;
      if (op.stepsId && (executionCount(op.stepsId, "first", opts.sideEffectLog) > 0)) {
        problem({ kind: "wrong", op, detail: "a step ran for an invocation that does not exist" });
      }
      return;
    }
    if (res.status === 404) return problem({ kind: "lost", op, detail: `acknowledged with ${op.ackStatus} but attach answered 404: ${res.text}` });
    if (res.status !== 200) return problem({ kind: "wrong", op, detail: `attach answered ${res.status}: ${res.text}` });
    f.completed++;
    if (!op.acknowledged) f.completedUnacknowledged++;
    if (op.ackInvocationId !== undefined && res.invocationId !== op.ackInvocationId) {
      problem({ kind: "wrong", op, detail: `acknowledged as ${op.ackInvocationId}, attach found ${res.invocationId}` });
    }
    // A call's acknowledgement is its result: it must be the same as the stored one.
    if (op.ackStatus === 200 && !sameJson(op.ackBody, res.json)) {
      problem({ kind: "wrong", op, detail: `the call answered ${JSON.stringify(op.ackBody)}, attach answers ${res.text}` });
    }
    // The concurrent twin must have been answered for the same invocation (and, for a call, the same result).
    const dup = op.duplicate;
    if (dup?.status === 200 || dup?.status === 202) {
      if (dup.invocationId !== res.invocationId) problem({ kind: "wrong", op, detail: `the duplicate was answered for ${dup.invocationId}, attach found ${res.invocationId}` });
      if (dup.status === 200 && !sameJson(dup.body, res.json)) problem({ kind: "wrong", op, detail: `the duplicate call answered ${JSON.stringify(dup.body)}, attach answers ${res.text}` });
    } else if (dup?.status !== undefined && dup.status < 500) {
      problem({ kind: "wrong", op, detail: `the duplicate was answered ${dup.status}: ${JSON.stringify(dup.body)}` });
    }
    for (const seen of op.observed ?? []) {
      if (seen.status !== 200 || seen.invocationId !== res.invocationId || !sameJson(seen.body, res.json)) {
        problem({ kind: "wrong", op, detail: `an attach during the load answered ${seen.status} ${JSON.stringify(seen.body)} (${seen.invocationId}), now ${res.text} (${res.invocationId})` });
      }
    }
    if (op.kind === "relay-call" || op.kind === "relay-send") {
      const out = res.json as { balance?: unknown; child?: unknown } | undefined;
      if (typeof out?.balance === "number") {
        completedDeposits.push({ op, balance: out.balance });
        return;
      }
      if (typeof out?.child !== "string") return problem({ kind: "wrong", op, detail: `relay result: ${res.text}` });
      // The deposit the handler sent: attach to it by the id the handler got.
      f.childrenChecked++;
      const child = await attach(`${opts.ingressUrl}/restate/invocation/${out.child}/attach`, deadline);
      if (child.kind === "timeout") return problem({ kind: "stuck", op, detail: `the deposit ${out.child} sent by the handler did not complete within the bound` });
      if (child.kind !== "ok" || child.status !== 200 || typeof child.json !== "number") {
        return problem({ kind: "lost", op, detail: `the deposit ${out.child} sent by the handler: ${JSON.stringify(child)}` });
      }
      completedDeposits.push({ op, balance: child.json });
      return;
    }
    if (op.account !== undefined) {
      if (typeof res.json !== "number") return problem({ kind: "wrong", op, detail: `deposit result is not a balance: ${res.text}` });
      completedDeposits.push({ op, balance: res.json });
      return;
    }
    if (op.stepsId !== undefined) {
      f.stepsChecked++;
      const result = res.json as { first?: unknown; second?: unknown } | undefined;
      for (const step of ["first", "second"] as const) {
        const journaled = result?.[step];
        const executions = executionCount(op.stepsId, step, opts.sideEffectLog);
        if (typeof journaled !== "number" || journaled < 1) {
          problem({ kind: "wrong", op, detail: `step ${step}: result ${res.text}` });
          continue;
        }
        // The journaled result says which execution's value was committed. Any execution after it means the
        // closure ran again although its result was journaled.
        if (executions > journaled) {
          problem({ kind: "doubled", op, detail: `step ${step} journaled execution #${journaled} but ran ${executions} times` });
        } else if (executions < journaled) {
          problem({ kind: "wrong", op, detail: `step ${step} journaled execution #${journaled} but the log has ${executions}` });
        }
        if (journaled > 1) {
          // Allowed only when perdure went down between each lost execution and the next one: the crash came
          // before the lost result was committed. (The lost execution may even come after the kill: the SDK
          // runs the closure on a notification perdure pushed just before it died, and cannot report the result.)
          // The crash that cut it is taken as the last one that fits (recovery runs attempts before perdure
          // reports ready, so an execution just before "restarted" may belong to the next process).
          const times = opts.clock.seenAt.get(`${op.stepsId} ${step}`) ?? [];
          for (let n = 1; n < journaled; n++) {
            const lostAt = times[n - 1];
            const nextAt = times[n];
            const cut = opts.interruptions.findLast((i) => lostAt !== undefined && nextAt !== undefined && lostAt <= i.restartedAt && nextAt >= i.sentAt);
            if (!cut) {
              problem({ kind: "doubled", op, detail: `step ${step} execution #${n} (${lostAt! - op.sentAt} ms after the request) was re-run ${nextAt! - lostAt!} ms later without a crash in between` });
              continue;
            }
            f.stepReRunsBeforeCommit++;
            const at = lostAt! - cut.sentAt;
            f.reRunWindowMs = { earliest: Math.min(f.reRunWindowMs?.earliest ?? at, at), latest: Math.max(f.reRunWindowMs?.latest ?? at, at) };
          }
        }
      }
      return;
    }
    if (!sameJson(res.json, op.expected)) problem({ kind: "wrong", op, detail: `expected ${JSON.stringify(op.expected)}, attach answered ${res.text}` });
  };

  const queue = [...ops];
  const workers = Array.from({ length: opts.concurrency ?? 32 }, async () => {
    for (let op = queue.shift(); op; op = queue.shift()) await checkOne(op);
  });
  await Promise.all(workers);

  // Deposits: per account, the returned balances sorted must chain from 0 (each is the previous plus its own
  // amount), and the final balance must be their sum. A gap or a surplus is a deposit applied twice (or an
  // unknown one); a deficit, one that was lost.
  for (const account of opts.accounts) {
    f.accountsChecked++;
    const deposits = completedDeposits.filter((d) => d.op.account === account).sort((a, b) => a.balance - b.balance);
    f.depositsApplied += deposits.length;
    let previous = 0;
    for (const d of deposits) {
      const before = d.balance - d.op.amount!;
      if (before > previous) problem({ kind: "doubled", op: d.op, detail: `${account}: ${before - previous} applied between balance ${previous} and this deposit` });
      else if (before < previous) problem({ kind: "wrong", op: d.op, detail: `${account}: balance ${d.balance} after +${d.op.amount} overlaps the previous balance ${previous}` });
      previous = d.balance;
    }
    const expected = deposits.reduce((s, d) => s + d.op.amount!, 0);
    const balance = await attach(`${opts.ingressUrl}/Counter/${account}/get`, Date.now() + 10_000);
    if (balance.kind !== "ok" || balance.status !== 200) {
      problem({ kind: "stuck", detail: `${account}: get did not answer: ${JSON.stringify(balance)}` });
      continue;
    }
    const got = balance.json;
    if (typeof got !== "number") {
      problem({ kind: "wrong", detail: `${account}: get answered ${JSON.stringify(got)}` });
    } else if (got > expected) {
      problem({ kind: "doubled", detail: `${account}: balance ${got} is ${got - expected} more than the ${deposits.length} completed deposits (${expected})` });
    } else if (got < expected) {
      problem({ kind: "lost", detail: `${account}: balance ${got} is ${expected - got} less than the ${deposits.length} completed deposits (${expected})` });
    } else if (deposits.length > 0 && got !== previous) {
      problem({ kind: "wrong", detail: `${account}: balance ${got}, but the last deposit returned ${previous}` });
    }
  }
  return f;
}

function parseJson(text: string): unknown {
  try {
    return text === "" ? undefined : JSON.parse(text);
  } catch {
    return text;
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function describeError(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  return e.cause ? `${e.message} (${e.cause.code ?? e.cause.message ?? ""})` : `${e.name}: ${e.message}`;
}

/** Lines of perdure's log at ERROR level (a crash, a failed command), at most `max`. */
export function errorLines(logs: string, max = 20): string[] {
  return logs
    .split("\n")
    .filter((l) => / ERROR /.test(l))
    .slice(0, max);
}
