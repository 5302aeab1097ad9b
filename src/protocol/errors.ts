// The single error type of the protocol layer.
// Invariant: every failure caused by bytes received from the wire (bad frame header, truncated or malformed
// protobuf, unknown message type, missing required oneof) surfaces as a ProtocolError — decoders never throw
// anything else on bad input. Programmer errors on the encoding side (e.g. a negative varint) are TypeErrors.

export class ProtocolError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ProtocolError";
  }
}
