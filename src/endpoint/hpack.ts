// HPACK (RFC 7541) for perdure's HTTP/2 endpoint client: encoding of request header blocks and decoding of the
// response header blocks an endpoint sends.
//
// Invariants:
// - Encoding uses only literals without indexing and never Huffman, so the peer's decoder state never depends on
//   what perdure sent: the encoder keeps no state.
// - The decoder follows the peer's encoder exactly: static table, dynamic table with size-based eviction, size
//   updates bounded by the table size perdure announced, Huffman strings. Any malformed block throws
//   HpackError; the connection must then be dropped (its decoder state is unknown).

export class HpackError extends Error {
  constructor(message: string) {
    super(`HPACK: ${message}`);
    this.name = "HpackError";
  }
}

/** The static table (RFC 7541 Appendix A), index 1..61. */
const STATIC: ReadonlyArray<readonly [string, string]> = [
  [":authority", ""], [":method", "GET"], [":method", "POST"], [":path", "/"], [":path", "/index.html"],
  [":scheme", "http"], [":scheme", "https"], [":status", "200"], [":status", "204"], [":status", "206"],
  [":status", "304"], [":status", "400"], [":status", "404"], [":status", "500"], ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"], ["accept-language", ""], ["accept-ranges", ""], ["accept", ""],
  ["access-control-allow-origin", ""], ["age", ""], ["allow", ""], ["authorization", ""], ["cache-control", ""],
  ["content-disposition", ""], ["content-encoding", ""], ["content-language", ""], ["content-length", ""],
  ["content-location", ""], ["content-range", ""], ["content-type", ""], ["cookie", ""], ["date", ""], ["etag", ""],
  ["expect", ""], ["expires", ""], ["from", ""], ["host", ""], ["if-match", ""], ["if-modified-since", ""],
  ["if-none-match", ""], ["if-range", ""], ["if-unmodified-since", ""], ["last-modified", ""], ["link", ""],
  ["location", ""], ["max-forwards", ""], ["proxy-authenticate", ""], ["proxy-authorization", ""], ["range", ""],
  ["referer", ""], ["refresh", ""], ["retry-after", ""], ["server", ""], ["set-cookie", ""],
  ["strict-transport-security", ""], ["transfer-encoding", ""], ["user-agent", ""], ["vary", ""], ["via", ""],
  ["www-authenticate", ""],
];

/**
 * Huffman code lengths of symbols 0..256 (256 = end of string), RFC 7541 Appendix B, one character each
 * ('0' + length). The code is canonical: codes are assigned in order of (length, symbol), so lengths suffice.
 */
const HUFFMAN_LENGTHS =
  "=GLLLLLLLHNLLNLL" +
  "LLLLLLNLLLLLLLLL" +
  "6::<=68;::8;8666" +
  "555666666678?6<:" +
  "=677777777777777" +
  "77777777878=C=>6" +
  "?565656665776665" +
  "67655677777?;>=L" +
  "DFDDFFFGFGGGGGHG" +
  "HHFGHGGGGEFGFGGH" +
  "FEDFFGGEGFFHEFGG" +
  "EEFEGFGGDFFFGFFG" +
  "JJDCFGFIJJJKKJHI" +
  "CEJKKJKHEEJJLKKK" +
  "DHDEFEEGFFIIHHJG" +
  "JKJJKKKKKLKKKKKJ" +
  "N";

interface HuffmanNode {
  sym: number;
  zero: HuffmanNode | undefined;
  one: HuffmanNode | undefined;
}

function buildHuffmanTree(): HuffmanNode {
  const lengths = Array.from(HUFFMAN_LENGTHS, (c) => c.charCodeAt(0) - 48);
  if (lengths.length !== 257) throw new Error(`HPACK Huffman table has ${lengths.length} entries`);
  const order = lengths.map((len, sym) => ({ len, sym })).sort((a, b) => a.len - b.len || a.sym - b.sym);
  const root: HuffmanNode = { sym: -1, zero: undefined, one: undefined };
  let code = 0;
  let prevLen = order[0]!.len;
  for (const { len, sym } of order) {
    code <<= len - prevLen;
    prevLen = len;
    let node = root;
    for (let bit = len - 1; bit >= 0; bit--) {
      const key = (code >>> bit) & 1 ? "one" : "zero";
      node = node[key] ??= { sym: -1, zero: undefined, one: undefined };
    }
    node.sym = sym;
    code++;
  }
  return root;
}

const HUFFMAN_ROOT = buildHuffmanTree();
const EOS = 256;

/** Decodes a Huffman-coded string (RFC 7541 §5.2): padding must be fewer than 8 one bits. */
export function decodeHuffman(bytes: Uint8Array): Buffer {
  const out: number[] = [];
  let node = HUFFMAN_ROOT;
  let depth = 0;
  let allOnes = true;
  for (const byte of bytes) {
    for (let bit = 7; bit >= 0; bit--) {
      const one = (byte >> bit) & 1;
      const next = one ? node.one : node.zero;
      if (!next) throw new HpackError("invalid Huffman code");
      depth++;
      allOnes &&= one === 1;
      if (next.sym >= 0) {
        if (next.sym === EOS) throw new HpackError("EOS in a Huffman string");
        out.push(next.sym);
        node = HUFFMAN_ROOT;
        depth = 0;
        allOnes = true;
      } else {
        node = next;
      }
    }
  }
  if (depth > 7 || (depth > 0 && !allOnes)) throw new HpackError("invalid Huffman padding");
  return Buffer.from(out);
}

/** Bytes of an integer with a 7-bit prefix (RFC 7541 §5.1). */
function intSize(value: number): number {
  if (value < 127) return 1;
  let n = 2;
  for (value -= 127; value >= 128; value = Math.floor(value / 128)) n++;
  return n;
}

/** Writes an integer with a 7-bit prefix (the flag bit 0) at `pos`; returns the position after it. */
function writeInt(out: Buffer, pos: number, value: number): number {
  if (value < 127) {
    out[pos] = value;
    return pos + 1;
  }
  out[pos++] = 127;
  for (value -= 127; value >= 128; value = Math.floor(value / 128)) out[pos++] = (value % 128) + 128;
  out[pos] = value;
  return pos + 1;
}

/** A header block of literals without indexing, raw (not Huffman) strings; names must be lower-case. */
export function encodeHeaderBlock(headers: ReadonlyArray<readonly [string, string]>): Buffer {
  let size = 0;
  for (const [name, value] of headers) size += 1 + intSize(name.length) + name.length + intSize(value.length) + value.length;
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const [name, value] of headers) {
    out[pos++] = 0x00;
    pos = writeInt(out, pos, name.length);
    pos += out.write(name, pos, "latin1");
    pos = writeInt(out, pos, value.length);
    pos += out.write(value, pos, "latin1");
  }
  return out;
}

export class HpackDecoder {
  private readonly dynamic: Array<readonly [string, string]> = [];
  private size = 0;
  private maxSize: number;
  /** The most the peer may set its table to: what perdure announced in SETTINGS_HEADER_TABLE_SIZE. */
  private readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
    this.maxSize = limit;
  }

  /** Decodes one complete header block into name/value pairs, in order. */
  decode(block: Uint8Array): Array<[string, string]> {
    const headers: Array<[string, string]> = [];
    let pos = 0;
    const int = (prefixBits: number): number => {
      if (pos >= block.length) throw new HpackError("truncated integer");
      const max = (1 << prefixBits) - 1;
      let value = block[pos++]! & max;
      if (value < max) return value;
      let shift = 0;
      for (;;) {
        if (pos >= block.length) throw new HpackError("truncated integer");
        const b = block[pos++]!;
        value += (b & 0x7f) * 2 ** shift;
        shift += 7;
        if (shift > 28) throw new HpackError("integer too large");
        if ((b & 0x80) === 0) return value;
      }
    };
    const str = (): string => {
      if (pos >= block.length) throw new HpackError("truncated string");
      const huffman = (block[pos]! & 0x80) !== 0;
      const len = int(7);
      if (pos + len > block.length) throw new HpackError("truncated string");
      const raw = block.subarray(pos, pos + len);
      pos += len;
      return (huffman ? decodeHuffman(raw) : Buffer.from(raw)).toString("latin1");
    };
    const entry = (index: number): readonly [string, string] => {
      if (index === 0) throw new HpackError("index 0");
      if (index <= STATIC.length) return STATIC[index - 1]!;
      const e = this.dynamic[index - STATIC.length - 1];
      if (!e) throw new HpackError(`index ${index} beyond the tables`);
      return e;
    };
    while (pos < block.length) {
      const b = block[pos]!;
      if (b & 0x80) {
        const [name, value] = entry(int(7));
        headers.push([name, value]);
      } else if (b & 0x40) {
        const index = int(6);
        const name = index === 0 ? str() : entry(index)[0];
        const value = str();
        headers.push([name, value]);
        this.add(name, value);
      } else if (b & 0x20) {
        const size = int(5);
        if (size > this.limit) throw new HpackError(`table size ${size} above the ${this.limit} allowed`);
        this.maxSize = size;
        this.evict();
      } else {
        const index = int(4); // without indexing (0000) and never indexed (0001)
        const name = index === 0 ? str() : entry(index)[0];
        headers.push([name, str()]);
      }
    }
    return headers;
  }

  private add(name: string, value: string): void {
    const size = name.length + value.length + 32;
    if (size > this.maxSize) {
      this.dynamic.length = 0;
      this.size = 0;
      return;
    }
    this.dynamic.unshift([name, value]);
    this.size += size;
    this.evict();
  }

  private evict(): void {
    while (this.size > this.maxSize && this.dynamic.length > 0) {
      const [n, v] = this.dynamic.pop()!;
      this.size -= n.length + v.length + 32;
    }
  }
}
