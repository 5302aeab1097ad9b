// Message framing of the invocation protocol: 8-byte big-endian header + protobuf payload.
// Header layout: u16 message type, u16 flags (0x8000 = REQUESTED_ACK, meaningful only on
// ProposeRunCompletion; other bits reserved, sent as 0), u32 payload length (header excluded).
// Invariants:
// - FrameDecoder is a pure byte-stream reassembler: frames may be split across chunks or coalesced in one
//   chunk; it emits them in order and keeps any incomplete tail. Chunks are concatenated only once enough
//   bytes for the pending frame have arrived, so total copying stays linear in the stream size.
// - Emitted payloads are subarrays of the received chunks (no copy): callers must not mutate chunks after
//   pushing them.
// - A declared payload length above maxFrameSize throws ProtocolError; after that the decoder stays failed.
import { ProtocolError } from "./errors.ts";

export const FRAME_HEADER_SIZE = 8;

export const FrameFlags = {
  /** Set by V7 SDKs on ProposeRunCompletion: answer with ProposeRunCompletionAck instead of the notification. */
  RequestedAck: 0x8000,
} as const;

/** 32 MiB of payload plus headroom for the message around it. */
export const DEFAULT_MAX_FRAME_SIZE = 32 * 1024 * 1024 + 64 * 1024;

export type Frame = { type: number; flags: number; payload: Buffer };

function checkU16(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) throw new TypeError(`frame ${name} out of range: ${value}`);
}

/** Writes an 8-byte frame header into `target` at `offset`. */
export function writeFrameHeader(target: Buffer, offset: number, type: number, length: number, flags = 0): void {
  checkU16("type", type);
  checkU16("flags", flags);
  target.writeUInt16BE(type, offset);
  target.writeUInt16BE(flags, offset + 2);
  target.writeUInt32BE(length, offset + 4);
}

/** Header + payload in one freshly allocated buffer. */
export function encodeFrame(type: number, payload: Uint8Array, flags = 0): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_SIZE + payload.length);
  writeFrameHeader(out, 0, type, payload.length, flags);
  out.set(payload, FRAME_HEADER_SIZE);
  return out;
}

export class FrameDecoder {
  private readonly maxFrameSize: number;
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes needed before the next frame can make progress: a header, or header + declared payload. */
  private needed = FRAME_HEADER_SIZE;
  private failure: ProtocolError | undefined;

  constructor(options: { maxFrameSize?: number } = {}) {
    this.maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
  }

  /** Bytes received but not yet emitted as frames. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Feeds a chunk of the stream; returns the frames it completed (possibly none). */
  push(chunk: Uint8Array): Frame[] {
    if (this.failure) throw this.failure;
    if (chunk.length === 0) return [];
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.chunks.push(buf);
    this.buffered += buf.length;
    if (this.buffered < this.needed) return [];

    const data = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    const frames: Frame[] = [];
    let off = 0;
    while (data.length - off >= FRAME_HEADER_SIZE) {
      const length = data.readUInt32BE(off + 4);
      this.checkLength(length);
      const end = off + FRAME_HEADER_SIZE + length;
      if (end > data.length) break;
      frames.push({
        type: data.readUInt16BE(off),
        flags: data.readUInt16BE(off + 2),
        payload: data.subarray(off + FRAME_HEADER_SIZE, end),
      });
      off = end;
    }
    const rest = off === data.length ? undefined : data.subarray(off);
    this.chunks = rest ? [rest] : [];
    this.buffered = rest ? rest.length : 0;
    this.needed = rest && rest.length >= FRAME_HEADER_SIZE ? FRAME_HEADER_SIZE + rest.readUInt32BE(4) : FRAME_HEADER_SIZE;
    return frames;
  }

  private checkLength(length: number): void {
    if (length > this.maxFrameSize) {
      this.failure = new ProtocolError(
        `frame payload of ${length} bytes exceeds the maximum frame size of ${this.maxFrameSize} bytes`,
      );
      throw this.failure;
    }
  }
}
