// HTTP/2 framing (RFC 9113 §4, §6) as perdure's endpoint connections use it: frame types, flags and settings
// identifiers, building a frame, and the small payload helpers. Pure: no I/O, no connection state.
//
// Invariant: `frame()` returns a new buffer holding the 9-byte header and a copy of the payload, so callers may
// reuse or slice their payload buffers afterwards.

export const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

export const FrameType = {
  DATA: 0,
  HEADERS: 1,
  PRIORITY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PUSH_PROMISE: 5,
  PING: 6,
  GOAWAY: 7,
  WINDOW_UPDATE: 8,
  CONTINUATION: 9,
} as const;

export const Flag = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;

export const Setting = { HEADER_TABLE_SIZE: 0x1, ENABLE_PUSH: 0x2, MAX_CONCURRENT_STREAMS: 0x3, INITIAL_WINDOW_SIZE: 0x4, MAX_FRAME_SIZE: 0x5 } as const;

/** RST_STREAM error code CANCEL. */
export const CANCEL = 0x8;
/** Largest flow-control window, and the mask of the 31-bit stream id. */
export const MAX_WINDOW = 0x7fffffff;

/** A frame violating the protocol: the whole connection is in error. */
export class H2ProtocolError extends Error {}

export function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(9 + payload.length);
  out.writeUIntBE(payload.length, 0, 3);
  out[3] = type;
  out[4] = flags;
  out.writeUInt32BE(streamId, 5);
  payload.copy(out, 9);
  return out;
}

export function u32(value: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(value, 0);
  return b;
}

/** A SETTINGS payload of identifier/value pairs. */
export function settingsPayload(pairs: ReadonlyArray<readonly [number, number]>): Buffer {
  const out = Buffer.allocUnsafe(pairs.length * 6);
  pairs.forEach(([id, value], i) => {
    out.writeUInt16BE(id, i * 6);
    out.writeUInt32BE(value, i * 6 + 2);
  });
  return out;
}

/** The payload of a PADDED frame without its pad length byte and padding. */
export function unpad(payload: Buffer): Buffer {
  if (payload.length < 1) throw new H2ProtocolError("padded frame without pad length");
  const pad = payload[0]!;
  if (pad >= payload.length) throw new H2ProtocolError("padding exceeds the frame");
  return payload.subarray(1, payload.length - pad);
}
