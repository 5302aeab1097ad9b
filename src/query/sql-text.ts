// SQL text handling before SQLite sees a query: a tokenizer, the statement check (one SELECT/WITH/VALUES
// statement), a small rewrite of the DataFusion/PostgreSQL constructs the `restate` CLI sends that SQLite
// lacks, and the select-list analysis that tells the encoder the type of each result column.
//
// Invariants:
// - Rewrites work on tokens and never touch the inside of string literals, quoted identifiers or comments.
// - Rewrites only add quotes, aliases or synonyms; a query that SQLite already understands keeps its meaning.
// - Type inference is a hint: the encoder checks every hint against the values and falls back to the values.

import type { ColumnType } from "./tables.ts";

export type TokenKind = "space" | "comment" | "string" | "quoted" | "number" | "word" | "blob" | "param" | "op";

export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
}

export class SqlTextError extends Error {}

const OPERATORS = ["->>", "||", "==", "!=", "<>", "<=", ">=", "->", "::", "<<", ">>"];

/** Splits SQL text into tokens; concatenating their texts gives the input back. */
export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = sql.length;
  const push = (kind: TokenKind, end: number) => {
    out.push({ kind, text: sql.slice(i, end) });
    i = end;
  };
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (/\s/.test(c)) {
      let j = i + 1;
      while (j < n && /\s/.test(sql[j]!)) j++;
      push("space", j);
    } else if (c === "-" && next === "-") {
      const j = sql.indexOf("\n", i);
      push("comment", j === -1 ? n : j);
    } else if (c === "/" && next === "*") {
      const j = sql.indexOf("*/", i + 2);
      if (j === -1) throw new SqlTextError("unterminated /* comment");
      push("comment", j + 2);
    } else if (c === "'" || ((c === "x" || c === "X") && next === "'")) {
      let j = c === "'" ? i + 1 : i + 2;
      for (;;) {
        if (j >= n) throw new SqlTextError("unterminated string literal");
        if (sql[j] === "'") {
          if (sql[j + 1] === "'") j += 2;
          else break;
        } else j++;
      }
      push(c === "'" ? "string" : "blob", j + 1);
    } else if (c === '"' || c === "`") {
      let j = i + 1;
      for (;;) {
        if (j >= n) throw new SqlTextError("unterminated quoted identifier");
        if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else break;
        } else j++;
      }
      push("quoted", j + 1);
    } else if (c === "[") {
      const j = sql.indexOf("]", i);
      if (j === -1) throw new SqlTextError("unterminated [identifier]");
      push("quoted", j + 1);
    } else if (/[0-9]/.test(c) || (c === "." && next !== undefined && /[0-9]/.test(next))) {
      const m = /^(0x[0-9a-fA-F]+|(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?)/.exec(sql.slice(i))!;
      push("number", i + m[0].length);
    } else if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_$\u0080-\uffff]/.test(sql[j]!)) j++;
      push("word", j);
    } else if ((c === "?" || c === ":" || c === "@" || c === "$") && next !== undefined && /[A-Za-z0-9_]/.test(next)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_]/.test(sql[j]!)) j++;
      push("param", j);
    } else {
      const op = OPERATORS.find((o) => sql.startsWith(o, i));
      push("op", i + (op ? op.length : 1));
    }
  }
  return out;
}

const isTrivia = (t: Token) => t.kind === "space" || t.kind === "comment";
const upper = (t: Token | undefined) => (t && t.kind === "word" ? t.text.toUpperCase() : "");

/** Words that end an expression or start a clause: never taken for an alias. */
const CLAUSE_WORDS = new Set([
  "FROM", "WHERE", "GROUP", "ORDER", "LIMIT", "OFFSET", "HAVING", "WINDOW", "UNION", "INTERSECT", "EXCEPT", "JOIN",
  "INNER", "LEFT", "RIGHT", "FULL", "OUTER", "CROSS", "NATURAL", "ON", "USING", "AS", "SELECT", "WITH", "VALUES",
  "AND", "OR", "NOT", "IS", "IN", "LIKE", "ILIKE", "GLOB", "BETWEEN", "CASE", "WHEN", "THEN", "ELSE", "END",
  "NULL", "TRUE", "FALSE", "DISTINCT", "ALL", "ASC", "DESC", "NULLS", "FIRST", "LAST", "FILTER", "OVER", "ESCAPE",
  "COLLATE", "EXISTS", "RETURNING", "INDEXED",
]);

/** The type of a select-list item; STAR for `*` and `t.*`, which stand for any number of columns. */
export const STAR = "*";
export type ItemType = ColumnType | undefined | typeof STAR;

export interface PreparedSql {
  /** The SQL to give SQLite. */
  readonly sql: string;
  /** One entry per select-list item of the outermost SELECT, or undefined when the list was not understood. */
  readonly itemTypes: readonly ItemType[] | undefined;
}

/**
 * Lines the select-list items up with the `count` result columns: items before the first `*` give the first
 * columns, items after the last `*` the last ones; the columns a `*` stands for are left undefined.
 */
export function columnHints(items: readonly ItemType[] | undefined, count: number): Array<ColumnType | undefined> {
  const out = new Array<ColumnType | undefined>(count).fill(undefined);
  if (!items) return out;
  const first = items.indexOf(STAR);
  if (first === -1) {
    if (items.length !== count) return out;
    return items.map((t) => (t === STAR ? undefined : t));
  }
  const prefix = items.slice(0, first);
  const suffix = items.slice(items.lastIndexOf(STAR) + 1);
  if (prefix.length + suffix.length > count) return out;
  prefix.forEach((t, i) => (out[i] = t === STAR ? undefined : t));
  suffix.forEach((t, i) => (out[count - suffix.length + i] = t === STAR ? undefined : t));
  return out;
}

/**
 * Checks that `sql` is one read-only query (SELECT, WITH … SELECT or VALUES, an optional trailing `;`) and
 * rewrites what SQLite lacks. Throws SqlTextError (a 400 for the client) otherwise.
 */
export function prepareSql(sql: string): PreparedSql {
  const all = tokenize(sql);
  const significant = all.filter((t) => !isTrivia(t) && t.text !== ";");
  if (significant.length === 0) throw new SqlTextError("empty query: expected a SELECT statement");
  const shown = showStatement(significant);
  if (shown !== undefined) return prepareSql(shown);
  const first = upper(significant[0]);
  if (first !== "SELECT" && first !== "WITH" && first !== "VALUES" && significant[0]!.text !== "(") {
    throw new SqlTextError(`only SELECT queries are allowed, found: ${significant[0]!.text}`);
  }
  if (first === "WITH") {
    // The statement after the common table expressions must read, not write.
    const pairs = matchParens(significant);
    for (let i = 1; i < significant.length; i++) {
      if (significant[i]!.text === "(") {
        i = pairs.get(i) ?? i;
        continue;
      }
      const word = upper(significant[i]);
      if (word === "SELECT" || word === "VALUES") break;
      if (["INSERT", "UPDATE", "DELETE", "REPLACE"].includes(word)) throw new SqlTextError(`only SELECT queries are allowed, found: ${significant[i]!.text}`);
    }
  }
  // One statement: a `;` may only be followed by more `;` and trivia.
  let end = all.length;
  const semi = all.findIndex((t) => t.kind === "op" && t.text === ";");
  if (semi !== -1) {
    if (all.slice(semi).some((t) => !isTrivia(t) && t.text !== ";")) throw new SqlTextError("only one statement per query is allowed");
    end = semi;
  }
  const tokens = rewrite(all.slice(0, end));
  return { sql: tokens.map((t) => t.text).join(""), itemTypes: selectListTypes(tokens) };
}

/**
 * DataFusion's `SHOW TABLES`, `SHOW COLUMNS FROM t` and `DESCRIBE t`, as queries on information_schema
 * (undefined for anything else).
 */
function showStatement(sig: readonly Token[]): string | undefined {
  const words = sig.map(upper);
  const literal = (t: Token) => `'${(t.kind === "quoted" ? unquote(t.text) : t.text).replaceAll("'", "''")}'`;
  if (words.length === 2 && words[0] === "SHOW" && words[1] === "TABLES") {
    return "SELECT table_catalog, table_schema, table_name, table_type FROM information_schema.tables";
  }
  let table: Token | undefined;
  if (words.length === 4 && words[0] === "SHOW" && words[1] === "COLUMNS" && (words[2] === "FROM" || words[2] === "IN")) table = sig[3];
  if (words.length === 2 && (words[0] === "DESCRIBE" || words[0] === "DESC")) table = sig[1];
  if (!table || !isIdentifier(table)) return undefined;
  return `SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ${literal(table)} ORDER BY ordinal_position`;
}

// --- rewriting

/** Index of the next significant token at or after `from`, or -1. */
function nextSig(tokens: readonly Token[], from: number): number {
  for (let i = from; i < tokens.length; i++) if (!isTrivia(tokens[i]!)) return i;
  return -1;
}

function prevSig(tokens: readonly Token[], from: number): number {
  for (let i = from; i >= 0; i--) if (!isTrivia(tokens[i]!)) return i;
  return -1;
}

/** For every `(`, the index of its matching `)` (unbalanced parentheses are left to SQLite to report). */
function matchParens(tokens: readonly Token[]): Map<number, number> {
  const pairs = new Map<number, number>();
  const stack: number[] = [];
  tokens.forEach((t, i) => {
    if (t.kind !== "op") return;
    if (t.text === "(") stack.push(i);
    else if (t.text === ")" && stack.length > 0) pairs.set(stack.pop()!, i);
  });
  return pairs;
}

function isIdentifier(t: Token | undefined): boolean {
  return t !== undefined && (t.kind === "quoted" || (t.kind === "word" && !CLAUSE_WORDS.has(t.text.toUpperCase())));
}

/**
 * - `index` (a column of sys_journal, a keyword in SQLite) becomes `"index"`;
 * - `CAST(x AS STRING)` becomes `CAST(x AS TEXT)` (STRING has numeric affinity in SQLite); TRY_CAST becomes CAST;
 * - `ILIKE` becomes `LIKE` (SQLite's LIKE ignores ASCII case already);
 * - a derived table without an alias takes the alias of the single table it selects from, because DataFusion lets
 *   the outer query use it: `SELECT COUNT(1) FROM (SELECT * FROM sys_invocation inv LIMIT 50000) WHERE inv.status …`.
 */
function rewrite(input: readonly Token[]): Token[] {
  const tokens = input.map((t): Token => {
    if (t.kind !== "word") return t;
    const u = t.text.toUpperCase();
    if (u === "INDEX") return { kind: "quoted", text: `"${t.text.toLowerCase()}"` };
    if (u === "ILIKE") return { kind: "word", text: "LIKE" };
    if (u === "TRY_CAST") return { kind: "word", text: "CAST" };
    return t;
  });
  const pairs = matchParens(tokens);
  // CAST(... AS STRING)
  for (const [open, close] of pairs) {
    const before = prevSig(tokens, open - 1);
    if (before === -1 || upper(tokens[before]) !== "CAST") continue;
    const last = prevSig(tokens, close - 1);
    const as = prevSig(tokens, last - 1);
    if (last > open && upper(tokens[as]) === "AS" && upper(tokens[last]) === "STRING") tokens[last] = { kind: "word", text: "TEXT" };
  }
  // Derived tables without an alias.
  const inserts: Array<[number, Token]> = [];
  for (const [open, close] of pairs) {
    const before = prevSig(tokens, open - 1);
    const inner = nextSig(tokens, open + 1);
    if (before === -1 || !["FROM", "JOIN"].includes(upper(tokens[before])) || upper(tokens[inner]) !== "SELECT") continue;
    const after = nextSig(tokens, close + 1);
    if (after !== -1 && (upper(tokens[after]) === "AS" || isIdentifier(tokens[after]))) continue;
    const alias = innerAlias(tokens, inner, close, pairs);
    if (alias) inserts.push([close + 1, alias]);
  }
  for (const [at, alias] of inserts.sort((a, b) => b[0] - a[0])) {
    tokens.splice(at, 0, { kind: "space", text: " " }, { kind: "word", text: "AS" }, { kind: "space", text: " " }, alias);
  }
  return tokens;
}

/** The alias of the single table in the top-level FROM of the SELECT between `start` and `end`, if it has one. */
function innerAlias(tokens: readonly Token[], start: number, end: number, pairs: ReadonlyMap<number, number>): Token | undefined {
  for (let i = start; i < end; i++) {
    const t = tokens[i]!;
    if (t.kind === "op" && t.text === "(") {
      i = pairs.get(i) ?? i;
      continue;
    }
    if (upper(t) !== "FROM") continue;
    let j = nextSig(tokens, i + 1);
    if (!isIdentifier(tokens[j])) return undefined;
    const dot = nextSig(tokens, j + 1);
    if (tokens[dot]?.text === ".") j = nextSig(tokens, dot + 1);
    let k = nextSig(tokens, j + 1);
    if (upper(tokens[k]) === "AS") k = nextSig(tokens, k + 1);
    if (k === -1 || k >= end || !isIdentifier(tokens[k])) return undefined;
    const after = nextSig(tokens, k + 1);
    if (after !== -1 && after < end && tokens[after]!.text === ",") return undefined;
    if (after !== -1 && after < end && ["JOIN", "INNER", "LEFT", "RIGHT", "FULL", "CROSS", "NATURAL"].includes(upper(tokens[after]))) return undefined;
    return tokens[k]!;
  }
  return undefined;
}

// --- select-list analysis

/** Column types by name across every table the engine serves; set once by the tables module. */
let typeByName: ReadonlyMap<string, ColumnType> = new Map();

export function setColumnTypesByName(types: ReadonlyMap<string, ColumnType>): void {
  typeByName = types;
}

export function columnTypeByName(name: string): ColumnType | undefined {
  return typeByName.get(name.toLowerCase());
}

/** The types of the items of the outermost SELECT list, or undefined when they cannot be lined up with columns. */
function selectListTypes(tokens: readonly Token[]): ItemType[] | undefined {
  const sig = tokens.filter((t) => !isTrivia(t));
  const pairs = matchParens(sig);
  // The outermost SELECT: skip a leading WITH clause (its CTE bodies are in parentheses).
  let i = 0;
  if (upper(sig[0]) === "WITH") {
    for (i = 1; i < sig.length; i++) {
      if (sig[i]!.text === "(") i = pairs.get(i) ?? i;
      else if (upper(sig[i]) === "SELECT") break;
    }
  }
  if (upper(sig[i]) !== "SELECT") return undefined;
  i++;
  if (upper(sig[i]) === "DISTINCT" || upper(sig[i]) === "ALL") i++;
  const items: Token[][] = [];
  let current: Token[] = [];
  for (; i < sig.length; i++) {
    const t = sig[i]!;
    const u = upper(t);
    if (t.text === "(") {
      const close = pairs.get(i) ?? sig.length - 1;
      current.push(...sig.slice(i, close + 1));
      i = close;
      continue;
    }
    if (t.text === ",") {
      items.push(current);
      current = [];
      continue;
    }
    if (["FROM", "WHERE", "GROUP", "ORDER", "LIMIT", "HAVING", "WINDOW", "UNION", "INTERSECT", "EXCEPT"].includes(u)) break;
    current.push(t);
  }
  items.push(current);
  const types: ItemType[] = [];
  for (const item of items) {
    if (item.length === 0) return undefined;
    types.push(item[item.length - 1]!.text === "*" ? STAR : expressionType(stripAlias(item)));
  }
  return types;
}

function stripAlias(item: Token[]): Token[] {
  const n = item.length;
  if (n >= 3 && upper(item[n - 2]) === "AS") return item.slice(0, n - 2);
  // `expr alias` without AS: an identifier after something that cannot end with an operator.
  if (n >= 2 && isIdentifier(item[n - 1]) && item[n - 2]!.text !== "." && item[n - 2]!.kind !== "op") {
    const prev = item[n - 2]!;
    if (prev.kind === "word" && CLAUSE_WORDS.has(prev.text.toUpperCase()) && !["END", "NULL", "TRUE", "FALSE"].includes(prev.text.toUpperCase())) return item;
    return item.slice(0, n - 1);
  }
  if (n >= 2 && item[n - 2]!.text === ")" && isIdentifier(item[n - 1])) return item.slice(0, n - 1);
  return item;
}

const BOOLEAN_OPERATORS = new Set(["=", "==", "!=", "<>", "<", ">", "<=", ">="]);
const BOOLEAN_WORDS = new Set(["AND", "OR", "NOT", "IS", "IN", "LIKE", "GLOB", "BETWEEN", "EXISTS", "REGEXP", "MATCH"]);

const FUNCTION_TYPES: Record<string, ColumnType | "arg"> = {
  COUNT: "Int64",
  LENGTH: "Int64",
  OCTET_LENGTH: "Int64",
  CHAR_LENGTH: "Int64",
  CHARACTER_LENGTH: "Int64",
  AVG: "Float64",
  NOW: "Timestamp",
  LOWER: "Utf8",
  UPPER: "Utf8",
  SUBSTR: "Utf8",
  SUBSTRING: "Utf8",
  TRIM: "Utf8",
  LTRIM: "Utf8",
  RTRIM: "Utf8",
  REPLACE: "Utf8",
  CONCAT: "Utf8",
  MIN: "arg",
  MAX: "arg",
  FIRST_VALUE: "arg",
  LAST_VALUE: "arg",
  ANY_VALUE: "arg",
  NTH_VALUE: "arg",
  COALESCE: "arg",
  IFNULL: "arg",
  NULLIF: "arg",
  LAG: "arg",
  LEAD: "arg",
};

const CAST_TYPES: Array<[RegExp, ColumnType]> = [
  [/^(TEXT|STRING|VARCHAR|CHAR|CLOB|UTF8)/, "Utf8"],
  [/^(BOOL)/, "Boolean"],
  [/^TIMESTAMP/, "Timestamp"],
  [/^(REAL|DOUBLE|FLOAT|DECIMAL|NUMERIC)/, "Float64"],
  [/INT/, "Int64"],
  [/^(BLOB|BYTEA|BINARY|VARBINARY)/, "Binary"],
];

/** A best-effort static type of an expression (significant tokens, no alias). */
export function expressionType(tokens: readonly Token[]): ColumnType | undefined {
  if (tokens.length === 0) return undefined;
  const pairs = matchParens(tokens);
  // Top-level operators decide first.
  let depthCase = 0;
  let concat = false;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.text === "(") {
      i = pairs.get(i) ?? i;
      continue;
    }
    const u = upper(t);
    if (u === "CASE") depthCase++;
    else if (u === "END") depthCase--;
    else if (depthCase === 0) {
      if (t.kind === "op" && BOOLEAN_OPERATORS.has(t.text)) return "Boolean";
      if (BOOLEAN_WORDS.has(u)) return "Boolean";
      if (t.kind === "op" && t.text === "||") concat = true;
    }
  }
  if (concat) return "Utf8";
  const first = tokens[0]!;
  const u = upper(first);
  if (tokens.length === 1) {
    if (first.kind === "string") return "Utf8";
    if (first.kind === "blob") return "Binary";
    if (u === "TRUE" || u === "FALSE") return "Boolean";
    if (isIdentifier(first)) return columnTypeByName(unquote(first.text));
    return undefined;
  }
  // qualified column: t.col
  if (tokens.length === 3 && tokens[1]!.text === "." && isIdentifier(tokens[2])) return columnTypeByName(unquote(tokens[2]!.text));
  // parenthesised expression
  if (first.text === "(" && pairs.get(0) === tokens.length - 1) {
    if (upper(tokens[1]) === "SELECT") return undefined;
    return expressionType(tokens.slice(1, -1));
  }
  // function call, possibly followed by FILTER (...) / OVER (...)
  if (first.kind === "word" && tokens[1]!.text === "(") {
    const close = pairs.get(1);
    if (close === undefined) return undefined;
    const rest = tokens.slice(close + 1);
    if (rest.length > 0 && !["FILTER", "OVER"].includes(upper(rest[0]))) return undefined;
    if (u === "CAST") {
      const inner = tokens.slice(2, close);
      const as = inner.map(upper).lastIndexOf("AS");
      const typeName = inner.slice(as + 1).map((t) => t.text.toUpperCase()).join(" ");
      return CAST_TYPES.find(([re]) => re.test(typeName))?.[1];
    }
    const kind = FUNCTION_TYPES[u];
    if (kind === undefined) return undefined;
    if (kind !== "arg") return kind;
    return expressionType(firstArgument(tokens.slice(2, close)));
  }
  return undefined;
}

/** The tokens of a call's first argument: up to a top-level `,` or ORDER BY; DISTINCT dropped. */
function firstArgument(args: readonly Token[]): Token[] {
  const pairs = matchParens(args);
  const out: Token[] = [];
  for (let i = 0; i < args.length; i++) {
    const t = args[i]!;
    if (i === 0 && upper(t) === "DISTINCT") continue;
    if (t.text === "(") {
      const close = pairs.get(i) ?? i;
      out.push(...args.slice(i, close + 1));
      i = close;
      continue;
    }
    if (t.text === "," || upper(t) === "ORDER") break;
    out.push(t);
  }
  return out;
}

function unquote(text: string): string {
  const c = text[0];
  if (c === '"' || c === "`") return text.slice(1, -1).replaceAll(c + c, c);
  if (c === "[") return text.slice(1, -1);
  return text;
}
