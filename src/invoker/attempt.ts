// One attempt of an invocation against its deployment: sends Start and the journal, forwards every message the
// endpoint sends to the partition, and pushes notifications the partition produces while the attempt runs.
//
// States: starting -> streaming -> (terminal message seen) draining -> done.
// Invariants:
// - The request body ends right after the endpoint's terminal message (End, Suspension, Error), or when the
//   inactivity timeout passes (the endpoint then suspends); the abort timeout then bounds the wait.
// - A pushed notification is sent once: entries already in the journal snapshot sent with Start are skipped.
// - Exactly one outcome reaches the partition: the terminal message, or an attempt failure.

import { FrameDecoder, encodeFrame, type Frame } from "../protocol/frame.ts";
import { MessageType } from "../protocol/message-types.ts";
import { encodeStart } from "../protocol/start.ts";
import type { EndpointClient, EndpointStream } from "../endpoint/client.ts";
import type { InvocationRecord, DeploymentRecord, JournalEntry } from "../storage/api/records.ts";
import { parseInvocationId } from "../core/ids.ts";
import { hash64 } from "../core/hash.ts";
import { ErrorCode } from "../core/errors.ts";
import { endpointUrl } from "../deployments/discovery.ts";
import type { PartitionCommand } from "../partition/commands.ts";

export interface AttemptContext {
  readonly client: EndpointClient;
  readonly submit: (cmd: PartitionCommand) => void;
  readonly now: () => number;
}

export interface AttemptInput {
  readonly invocation: InvocationRecord;
  readonly deployment: DeploymentRecord;
  readonly journal: readonly JournalEntry[];
  /** Eager state, or undefined when the endpoint must fetch state lazily. */
  readonly state: ReadonlyArray<[Buffer, Buffer]> | undefined;
  readonly inactivityTimeoutMs: number;
  readonly abortTimeoutMs: number;
}

type AttemptState = "starting" | "streaming" | "draining" | "done";

const TERMINAL = new Set<number>([MessageType.End, MessageType.Suspension, MessageType.Error]);

export class Attempt {
  readonly invocationId: string;
  readonly epoch: number;
  private state: AttemptState = "starting";
  private stream: EndpointStream | undefined;
  private url: URL | undefined;
  private inputOpen = false;
  private snapshotLength = 0;
  private readonly pending: Array<{ index: number | undefined; frame: Buffer }> = [];
  private readonly decoder = new FrameDecoder();
  private inactivityTimer: NodeJS.Timeout | undefined;
  private abortTimer: NodeJS.Timeout | undefined;
  private readonly ctx: AttemptContext;
  private inactivityTimeoutMs = 60_000;
  private abortTimeoutMs = 600_000;
  private readonly onDone: (a: Attempt) => void;

  constructor(invocationId: string, epoch: number, ctx: AttemptContext, onDone: (a: Attempt) => void) {
    this.invocationId = invocationId;
    this.epoch = epoch;
    this.ctx = ctx;
    this.onDone = onDone;
  }

  get terminal(): boolean {
    return this.state === "draining" || this.state === "done";
  }

  /** Opens the stream and sends Start plus the journal. */
  begin(input: AttemptInput): void {
    if (this.state !== "starting") return;
    const { invocation: inv, deployment, journal } = input;
    this.inactivityTimeoutMs = input.inactivityTimeoutMs;
    this.abortTimeoutMs = input.abortTimeoutMs;
    const version = inv.protocolVersion ?? 5;
    const contentType = `application/vnd.restate.invocation.v${version}`;
    const headers: Record<string, string> = {
      "content-type": contentType,
      accept: contentType,
      "x-restate-invocation-id": inv.id,
      ...deployment.additionalHeaders,
    };
    if (inv.key !== undefined) headers["x-restate-service-key"] = encodeURIComponent(inv.key);

    this.state = "streaming";
    const audience = `/invoke/${encodeURIComponent(inv.service)}/${encodeURIComponent(inv.handler)}`;
    const options = { method: "POST" as const, headers, http11: deployment.httpVersion === "HTTP/1.1", audience, ...(inv.key !== undefined ? { subject: inv.key } : {}) };
    const url = invokeUrl(deployment.uri, audience);
    this.url = url;
    this.stream = this.ctx.client.open(url, options, {
      onResponse: (status, h) => this.onResponse(status, h),
      onData: (chunk) => this.onData(chunk),
      onEnd: () => this.onEnd(),
      onError: (err) => this.fail(ErrorCode.DeploymentUnavailable, `error when calling '${deployment.uri}': ${err.message}`),
    });
    this.inputOpen = true;
    const rawId = parseInvocationId(inv.id);
    const start = encodeStart({
      id: rawId,
      debugId: inv.id,
      knownEntries: journal.length,
      stateMap: (input.state ?? []).map(([key, value]) => ({ key, value })),
      partialState: input.state === undefined,
      key: inv.key ?? "",
      retryCountSinceLastStoredEntry: inv.retryCount,
      durationSinceLastStoredEntry: Math.max(0, this.ctx.now() - inv.lastEntryAt),
      randomSeed: hash64(rawId),
    });
    const frames = [encodeFrame(MessageType.Start, start)];
    for (const e of journal) frames.push(encodeFrame(e.type, e.payload));
    this.snapshotLength = journal.length;
    this.stream.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames));
    for (const p of this.pending.splice(0)) this.push(p.index, p.frame);
    if (deployment.protocolType === "RequestResponse") {
      this.endInput();
    } else {
      this.touch();
    }
  }

  /** Sends a notification produced while the attempt runs. */
  push(journalIndex: number | undefined, frame: Buffer): void {
    if (this.state === "starting") {
      this.pending.push({ index: journalIndex, frame });
      return;
    }
    if (!this.inputOpen || this.terminal) return;
    if (journalIndex !== undefined && journalIndex < this.snapshotLength) return;
    this.stream?.write(frame);
    this.touch();
  }

  /** Stops the attempt without telling the partition (the partition decided it). */
  abort(): void {
    if (this.state === "done") return;
    this.finish();
    this.stream?.abort();
  }

  private onResponse(status: number, headers: Record<string, string | string[] | undefined>): void {
    if (status !== 200) {
      const retryAfter = parseRetryAfter(headers["retry-after"]);
      this.fail(ErrorCode.DeploymentUnavailable, `the endpoint answered HTTP ${status}`, retryAfter, status);
      return;
    }
    const ct = String(headers["content-type"] ?? "");
    if (!ct.startsWith("application/vnd.restate.invocation.v")) {
      this.fail(ErrorCode.ProtocolViolation, `the endpoint answered with content-type '${ct}'`);
    }
  }

  private onData(chunk: Buffer): void {
    if (this.state !== "streaming") return;
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.fail(ErrorCode.ProtocolViolation, `malformed frames from the endpoint: ${(err as Error).message}`);
      return;
    }
    // Only whole messages count as activity: a trickle of bytes that never completes a frame does not.
    if (frames.length > 0) this.touch();
    for (const frame of frames) {
      if (this.state !== "streaming") return;
      this.ctx.submit({ kind: "endpoint-message", invocationId: this.invocationId, epoch: this.epoch, frame });
      if (TERMINAL.has(frame.type)) {
        this.state = "draining";
        this.endInput();
      }
    }
  }

  private onEnd(): void {
    if (this.state === "streaming") {
      this.fail(ErrorCode.DeploymentUnavailable, "the endpoint closed the stream without End, Suspension or Error");
      return;
    }
    this.finish();
  }

  private fail(errorCode: string, message: string, retryAfterMs?: number, status?: number): void {
    if (this.state === "done" || this.state === "draining") {
      this.finish();
      return;
    }
    this.finish();
    this.stream?.abort();
    if (errorCode === ErrorCode.Timeout && this.url) this.ctx.client.resetConnection(this.url);
    this.ctx.submit({
      kind: "attempt-failed",
      invocationId: this.invocationId,
      epoch: this.epoch,
      errorCode,
      failure: { code: status && status >= 400 && status < 600 ? status : 500, message },
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }

  /** Ends the request body; from then on the abort timeout bounds how long the endpoint may take. */
  private endInput(): void {
    if (!this.inputOpen) return;
    this.inputOpen = false;
    this.stream?.end();
    this.clearInactivity();
    if (!this.abortTimer) {
      this.abortTimer = setTimeout(() => {
        if (this.state === "streaming") this.fail(ErrorCode.Timeout, `the endpoint did not finish within the abort timeout of ${this.abortTimeoutMs} ms`);
        else this.abort();
      }, this.abortTimeoutMs);
      this.abortTimer.unref();
    }
  }

  /** Resets the inactivity timeout: after it, the request body ends and the endpoint suspends. */
  private touch(): void {
    if (this.state !== "streaming" || !this.inputOpen) return;
    if (this.inactivityTimer) {
      this.inactivityTimer.refresh(); // re-arms the same timer: no allocation per message
      return;
    }
    this.inactivityTimer = setTimeout(() => this.endInput(), this.inactivityTimeoutMs);
    this.inactivityTimer.unref();
  }

  private clearInactivity(): void {
    if (this.inactivityTimer) clearTimeout(this.inactivityTimer);
    this.inactivityTimer = undefined;
  }

  private finish(): void {
    if (this.state === "done") return;
    this.state = "done";
    this.clearInactivity();
    if (this.abortTimer) clearTimeout(this.abortTimer);
    this.onDone(this);
  }
}

/** Invoke URLs by deployment uri and path: the same few for every attempt of a handler, so parsed once. */
const invokeUrls = new Map<string, URL>();
const MAX_INVOKE_URLS = 4_096;

/** The URL an attempt posts to (never changed by its users: the client only reads it). */
function invokeUrl(deploymentUri: string, path: string): URL {
  const cacheKey = `${deploymentUri} ${path}`;
  let url = invokeUrls.get(cacheKey);
  if (!url) {
    if (invokeUrls.size >= MAX_INVOKE_URLS) invokeUrls.clear();
    url = endpointUrl(new URL(deploymentUri), path);
    invokeUrls.set(cacheKey, url);
  }
  return url;
}

function parseRetryAfter(v: string | string[] | undefined): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (!s) return undefined;
  if (/^\d+$/.test(s.trim())) return Number(s.trim()) * 1000;
  const date = Date.parse(s);
  return Number.isFinite(date) && /[a-z]/i.test(s) ? Math.max(0, date - Date.now()) : undefined;
}
