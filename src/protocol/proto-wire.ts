// Minimal hand-written protobuf (proto3) wire codec: ProtoWriter (proto-writer.ts) and ProtoReader
// (proto-reader.ts), re-exported here as one entry point. See those files for the invariants.
export { ProtoReader, WireType, MAX_NESTING_DEPTH, decodeWith } from "./proto-reader.ts";
export { ProtoWriter, varint32Size, encodeWith } from "./proto-writer.ts";
