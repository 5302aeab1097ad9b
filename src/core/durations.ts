// Durations and timestamps as the Restate ingress and admin API read and write them.
// Parsing accepts ISO 8601 durations ("PT1H30M", "P1D", "pt0.5s") and the "friendly" form
// ("1h 30m", "500ms", "2 days", "1 second"); formatting writes the compact friendly form ("1d",
// "1h 30m", "500ms") and RFC 3339 timestamps in the three precisions the reference prints.
// Invariants:
// - Durations are non-negative whole milliseconds; finer units (µs, ns) round to the nearest ms.
// - Days are exactly 24 h and weeks 7 days; years and months (no fixed length) are rejected.
// - Units must appear from largest to smallest, each at most once; only the last may be fractional.
// - formatDuration(parseDuration(formatDuration(ms))) === formatDuration(ms).
// - Error messages are lower-case clauses: callers embed them, e.g.
//   "bad delay query parameter, must be a ISO8601 duration: <message>".
// - Pure: no clock reads; timestamps are passed in as epoch milliseconds.

export class DurationParseError extends Error {
  override name = "DurationParseError";
}

const NS_PER_MS = 1_000_000n;
const MS_PER_SECOND = 1000;
const MS_PER_MINUTE = 60 * MS_PER_SECOND;
const MS_PER_HOUR = 60 * MS_PER_MINUTE;
const MS_PER_DAY = 24 * MS_PER_HOUR;

type UnitName = "year" | "month" | "week" | "day" | "hour" | "minute" | "second" | "milli" | "micro" | "nano";

// Largest first; `rank` orders units, `ns` is the length (0n for calendar units).
const UNITS: Record<UnitName, { rank: number; ns: bigint }> = {
  year: { rank: 0, ns: 0n },
  month: { rank: 1, ns: 0n },
  week: { rank: 2, ns: 7n * 24n * 3_600_000_000_000n },
  day: { rank: 3, ns: 24n * 3_600_000_000_000n },
  hour: { rank: 4, ns: 3_600_000_000_000n },
  minute: { rank: 5, ns: 60_000_000_000n },
  second: { rank: 6, ns: 1_000_000_000n },
  milli: { rank: 7, ns: 1_000_000n },
  micro: { rank: 8, ns: 1_000n },
  nano: { rank: 9, ns: 1n },
};

const FRIENDLY_DESIGNATORS = new Map<string, UnitName>();
for (const [unit, names] of [
  ["year", ["years", "year", "yrs", "yr", "y"]],
  ["month", ["months", "month", "mos", "mo"]],
  ["week", ["weeks", "week", "wks", "wk", "w"]],
  ["day", ["days", "day", "d"]],
  ["hour", ["hours", "hour", "hrs", "hr", "h"]],
  ["minute", ["minutes", "minute", "mins", "min", "m"]],
  ["second", ["seconds", "second", "secs", "sec", "s"]],
  ["milli", ["milliseconds", "millisecond", "msecs", "msec", "ms"]],
  ["micro", ["microseconds", "microsecond", "usecs", "usec", "us", "µsecs", "µsec", "µs", "μsecs", "μsec", "μs"]],
  ["nano", ["nanoseconds", "nanosecond", "nsecs", "nsec", "ns"]],
] as const) {
  for (const name of names) FRIENDLY_DESIGNATORS.set(name, unit);
}

const FRIENDLY_PREFIX = 'failed to parse input in the "friendly" duration format: ';
const ISO_PREFIX = "failed to parse input in the ISO 8601 duration format: ";
const CALENDAR_UNITS =
  "years and months have no fixed length and are not supported in durations (use days or weeks)";
const NEGATIVE = "negative signed durations cannot be converted to an unsigned duration";
const MAX_MS = BigInt(Number.MAX_SAFE_INTEGER);

/** Accumulates components, enforcing unit order, single fraction and calendar-unit rejection. */
class Accumulator {
  totalNs = 0n;
  lastRank = -1;
  sawFraction = false;
  count = 0;
  private readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  fail(reason: string): never {
    throw new DurationParseError(this.prefix + reason);
  }

  add(whole: string, fraction: string, unit: UnitName, label: string): void {
    const { rank, ns } = UNITS[unit];
    if (rank <= this.lastRank) {
      this.fail(`found unit \`${label}\` after a smaller or equal unit; units must be written from largest to smallest, each at most once`);
    }
    if (this.sawFraction) this.fail("only the smallest (last) unit may have a fractional value");
    if (ns === 0n) this.fail(CALENDAR_UNITS);
    this.lastRank = rank;
    this.count++;
    this.totalNs += BigInt(whole) * ns;
    if (fraction !== "") {
      this.sawFraction = true;
      const scale = 10n ** BigInt(fraction.length);
      // Round the fractional part to the nearest nanosecond.
      this.totalNs += (BigInt(fraction) * ns * 2n + scale) / (2n * scale);
    }
  }

  milliseconds(negative: boolean): number {
    if (negative && this.totalNs > 0n) throw new DurationParseError(NEGATIVE);
    const ms = (this.totalNs + NS_PER_MS / 2n) / NS_PER_MS;
    if (ms > MAX_MS) this.fail("duration is too large");
    return Number(ms);
  }
}

/**
 * Parses an ISO 8601 or "friendly" duration into whole milliseconds.
 * Throws DurationParseError (with a lower-case reason) when the text is not a valid duration.
 */
export function parseDuration(text: string): number {
  const input = text.trim();
  if (input === "") {
    throw new DurationParseError(
      // Worded as the reference server words it.
      `an empty string is not a valid duration in either the ISO 8601 format or Jiff's "friendly" format`,
    );
  }
  let pos = 0;
  let negative = false;
  if (input[0] === "+" || input[0] === "-") {
    negative = input[0] === "-";
    pos = 1;
  }
  const designator = input[pos];
  if (designator === "P" || designator === "p") return parseIso(input, pos + 1, negative);
  return parseFriendly(input, pos, negative);
}

const NUMBER = /(\d+)(?:[.,](\d+))?/y;

function parseIso(input: string, start: number, negative: boolean): number {
  const acc: Accumulator = new Accumulator(ISO_PREFIX);
  let pos = start;
  let inTime = false;
  let timeComponents = 0;
  while (pos < input.length) {
    const c = input[pos];
    if (c === "T" || c === "t") {
      if (inTime) acc.fail("found a second time designator `T`");
      inTime = true;
      pos++;
      continue;
    }
    NUMBER.lastIndex = pos;
    const m = NUMBER.exec(input);
    if (!m) acc.fail(`expected a number at position ${pos}, found \`${input.slice(pos)}\``);
    pos = NUMBER.lastIndex;
    const letter = input[pos]?.toUpperCase();
    if (letter === undefined) acc.fail(`expected a unit designator after \`${m[0]}\``);
    const unit = isoUnit(letter, inTime);
    if (unit === undefined) {
      acc.fail(`unrecognized ${inTime ? "time" : "date"} unit designator \`${input[pos]}\``);
    }
    acc.add(m[1] ?? "0", m[2] ?? "", unit, input[pos] ?? "");
    pos++;
    if (inTime) timeComponents++;
  }
  if (acc.count === 0) acc.fail("expected at least one unit value after `P`");
  if (inTime && timeComponents === 0) acc.fail("expected at least one unit value after `T`");
  return acc.milliseconds(negative);
}

function isoUnit(letter: string, inTime: boolean): UnitName | undefined {
  if (inTime) return letter === "H" ? "hour" : letter === "M" ? "minute" : letter === "S" ? "second" : undefined;
  switch (letter) {
    case "Y":
      return "year";
    case "M":
      return "month";
    case "W":
      return "week";
    case "D":
      return "day";
    default:
      return undefined;
  }
}

const FRIENDLY_NUMBER = /(\d+)(?:\.(\d+))?/y;
const DESIGNATOR = /[a-zA-Zµμ]+/y;
const SEPARATOR = /\s*(?:,\s*)?/y;

function parseFriendly(input: string, start: number, sign: boolean): number {
  const acc: Accumulator = new Accumulator(FRIENDLY_PREFIX);
  let pos = start;
  let negative = sign;
  for (;;) {
    FRIENDLY_NUMBER.lastIndex = pos;
    const m = FRIENDLY_NUMBER.exec(input);
    if (!m) {
      if (acc.count === 0) {
        acc.fail(
          "expected duration to start with a unit value (a decimal integer) after an optional sign, but no integer was found",
        );
      }
      DESIGNATOR.lastIndex = pos;
      const word = DESIGNATOR.exec(input)?.[0];
      if (word?.toLowerCase() === "ago" && DESIGNATOR.lastIndex === input.length) {
        if (sign) acc.fail("cannot use both a sign and the `ago` suffix");
        negative = true;
        break;
      }
      acc.fail(`found unexpected input \`${input.slice(pos)}\` after a unit value`);
    }
    pos = FRIENDLY_NUMBER.lastIndex;
    while (input[pos] === " " || input[pos] === "\t") pos++;
    DESIGNATOR.lastIndex = pos;
    const word = DESIGNATOR.exec(input)?.[0];
    if (word === undefined) {
      acc.fail("expected to find unit designator suffix (e.g., `years` or `secs`) after parsing integer");
    }
    const unit = FRIENDLY_DESIGNATORS.get(word.toLowerCase());
    if (unit === undefined) acc.fail(`unrecognized unit designator \`${word}\``);
    acc.add(m[1] ?? "0", m[2] ?? "", unit, word);
    pos = DESIGNATOR.lastIndex;
    SEPARATOR.lastIndex = pos;
    SEPARATOR.exec(input);
    if (SEPARATOR.lastIndex === input.length) break;
    pos = SEPARATOR.lastIndex;
  }
  return acc.milliseconds(negative);
}

function checkMillis(ms: number): number {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`invalid duration: ${ms} ms`);
  return Math.round(ms);
}

/**
 * Compact friendly form: units d, h, m, s, ms joined by spaces, zero units omitted
 * ("1d", "1h 30m", "1s 500ms"); 0 → "0s". Non-integer input is rounded to the nearest ms.
 */
export function formatDuration(ms: number): string {
  let rest = checkMillis(ms);
  if (rest === 0) return "0s";
  const parts: string[] = [];
  for (const [size, label] of [
    [MS_PER_DAY, "d"],
    [MS_PER_HOUR, "h"],
    [MS_PER_MINUTE, "m"],
    [MS_PER_SECOND, "s"],
    [1, "ms"],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${label}`);
    rest -= n * size;
  }
  return parts.join(" ");
}

/** ISO 8601 duration in seconds only, as the reference's SQL tables print it: "PT86400S", "PT0.5S". */
export function formatIsoDuration(ms: number): string {
  const total = checkMillis(ms);
  const seconds = Math.floor(total / MS_PER_SECOND);
  const millis = total % MS_PER_SECOND;
  const fraction = millis === 0 ? "" : "." + String(millis).padStart(3, "0").replace(/0+$/, "");
  return `PT${seconds}${fraction}S`;
}

function isoMillis(ms: number): string {
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) throw new RangeError(`invalid timestamp: ${ms}`);
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) throw new RangeError(`timestamp out of RFC 3339 range: ${ms}`);
  return date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
}

/** `2026-11-28T05:43:28.770Z` (milliseconds, `Z`). */
export function formatRfc3339Millis(ms: number): string {
  return isoMillis(ms);
}

/**
 * `2026-11-28T05:40:44.433000000Z` (nine fractional digits, `Z`), as ingress `executionTime`; a whole second
 * has no fraction (`2026-11-28T05:40:44Z`), as the reference writes it.
 */
export function formatRfc3339Nanos(ms: number): string {
  const iso = isoMillis(ms);
  return iso.endsWith(".000Z") ? iso.slice(0, -5) + "Z" : iso.slice(0, -1) + "000000Z";
}

/** `2026-11-29T05:41:06.477+00:00` (milliseconds, `+00:00`), as the `idempotency-expires` header. */
export function formatRfc3339Offset(ms: number): string {
  return isoMillis(ms).slice(0, -1) + "+00:00";
}
