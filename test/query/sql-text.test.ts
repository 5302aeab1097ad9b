// The SQL text step before SQLite: the one-SELECT check, the rewrites of DataFusion constructs the `restate`
// CLI uses, and the select-list types that tell the encoder what each result column is.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { columnHints, expressionType, prepareSql, setColumnTypesByName, SqlTextError, STAR, tokenize } from "../../src/query/sql-text.ts";
import { columnTypesByName } from "../../src/query/tables.ts";

setColumnTypesByName(columnTypesByName());

describe("tokenize", () => {
  test("gives the text back, strings and comments whole", () => {
    const sql = `SELECT 'it''s -- not' AS "a""b", x'00ff', 1.5e3 -- c\n/* d */ FROM t WHERE a->>'$.x' != ?1`;
    const tokens = tokenize(sql);
    assert.equal(tokens.map((t) => t.text).join(""), sql);
    assert.deepEqual(
      tokens.filter((t) => t.kind === "string" || t.kind === "quoted" || t.kind === "blob" || t.kind === "comment").map((t) => t.text),
      ["'it''s -- not'", '"a""b"', "x'00ff'", "-- c", "/* d */", "'$.x'"],
    );
    assert.ok(tokens.some((t) => t.kind === "op" && t.text === "->>"));
  });

  test("unterminated strings are SQL errors", () => {
    assert.throws(() => tokenize("SELECT 'abc"), SqlTextError);
    assert.throws(() => tokenize('SELECT "abc'), SqlTextError);
    assert.throws(() => tokenize("SELECT /* abc"), SqlTextError);
  });
});

describe("prepareSql", () => {
  test("one SELECT, WITH … SELECT or VALUES statement; a trailing ; is fine", () => {
    for (const sql of ["SELECT 1", "  -- hi\n select 1 ;", "WITH a AS (SELECT 1) SELECT * FROM a", "VALUES (1)", "(SELECT 1)", "WITH d AS (SELECT 'DELETE') SELECT * FROM d"]) {
      assert.doesNotThrow(() => prepareSql(sql), sql);
    }
    for (const sql of ["", "  ", "DELETE FROM state", "PRAGMA x", "WITH a AS (SELECT 1) DELETE FROM state", "WITH a AS (SELECT 1) INSERT INTO t SELECT * FROM a", "SELECT 1; SELECT 2", "EXPLAIN SELECT 1"]) {
      assert.throws(() => prepareSql(sql), SqlTextError, sql);
    }
  });

  test("SHOW TABLES, SHOW COLUMNS and DESCRIBE become information_schema queries", () => {
    assert.match(prepareSql("show tables;").sql, /FROM information_schema\.tables$/);
    assert.match(prepareSql("SHOW COLUMNS FROM sys_journal").sql, /FROM information_schema\.columns WHERE table_schema = 'public' AND table_name = 'sys_journal'/);
    assert.match(prepareSql('DESCRIBE "state"').sql, /table_name = 'state'/);
    assert.throws(() => prepareSql("SHOW ALL"), SqlTextError);
  });

  test("`index` is quoted (a keyword in SQLite, a column of sys_journal), but not inside strings", () => {
    assert.equal(
      prepareSql("SELECT sj.index, 'index' FROM sys_journal sj ORDER BY index DESC").sql,
      `SELECT sj."index", 'index' FROM sys_journal sj ORDER BY "index" DESC`,
    );
  });

  test("a derived table without an alias takes the alias of the table it selects from", () => {
    assert.equal(
      prepareSql("SELECT COUNT(1) FROM (SELECT * FROM sys_invocation inv LIMIT 50000 ) WHERE inv.status != 'completed'").sql,
      "SELECT COUNT(1) FROM (SELECT * FROM sys_invocation inv LIMIT 50000 ) AS inv WHERE inv.status != 'completed'",
    );
    assert.equal(prepareSql("SELECT COUNT(1) FROM (SELECT * FROM sys_invocation inv LIMIT 50000 )").sql, "SELECT COUNT(1) FROM (SELECT * FROM sys_invocation inv LIMIT 50000 ) AS inv");
    const unchanged = [
      "SELECT * FROM (SELECT * FROM sys_invocation inv) x",
      "SELECT * FROM (SELECT * FROM sys_invocation inv) AS x",
      "SELECT * FROM (SELECT * FROM sys_invocation)",
      "SELECT * FROM (SELECT * FROM sys_invocation a JOIN sys_journal b ON a.id = b.id)",
    ];
    for (const sql of unchanged) assert.equal(prepareSql(sql).sql, sql);
  });

  test("CAST(… AS STRING), TRY_CAST and ILIKE", () => {
    assert.equal(prepareSql("SELECT CAST(NULL as STRING) AS a, TRY_CAST(x AS STRING) FROM t WHERE n ILIKE 'a%'").sql, "SELECT CAST(NULL as TEXT) AS a, CAST(x AS TEXT) FROM t WHERE n LIKE 'a%'");
    assert.equal(prepareSql("SELECT x AS string FROM t").sql, "SELECT x AS string FROM t", "an alias named string stays");
  });
});

describe("select-list types", () => {
  const types = (sql: string) => prepareSql(sql).itemTypes;

  test("columns by name, aggregates by their argument, comparisons are booleans", () => {
    assert.deepEqual(
      types(
        "SELECT inv.id, inv.created_at, inv.modified_at as state_modified_at, inv.retry_count as num_retries, dp.id IS NOT NULL as pinned_deployment_exists, COUNT(1) AS n, MIN(created_at) as oldest_at, FIRST_VALUE(id ORDER BY created_at ASC) as oldest, sum(retry_count) as s, 0 as zero, 'pending' as status, value, completed FROM x",
      ),
      ["Utf8", "Timestamp", "Timestamp", "UInt64", "Boolean", "Int64", "Timestamp", "Utf8", undefined, undefined, "Utf8", "Binary", "Boolean"],
    );
  });

  test("the select list of the statement after WITH; stars", () => {
    assert.deepEqual(types("WITH a AS (SELECT created_at FROM t) SELECT inv.*, dp.id IS NOT NULL as e FROM a inv"), [STAR, "Boolean"]);
    assert.deepEqual(types("SELECT DISTINCT status, CASE WHEN a = 1 THEN 'x' END AS c FROM t"), ["Utf8", undefined]);
  });

  test("expressionType", () => {
    const t = (sql: string) => expressionType(tokenize(sql).filter((x) => x.kind !== "space"));
    assert.equal(t("CAST(x AS BIGINT)"), "Int64");
    assert.equal(t("CAST(x AS TIMESTAMP)"), "Timestamp");
    assert.equal(t("a || b"), "Utf8");
    assert.equal(t("x IN (1, 2)"), "Boolean");
    assert.equal(t("NOT x"), "Boolean");
    assert.equal(t("(created_at)"), "Timestamp");
    assert.equal(t("coalesce(next_retry_at, created_at)"), "Timestamp");
    assert.equal(t("count(*) FILTER (WHERE x)"), "Int64");
    assert.equal(t("x + 1"), undefined);
    assert.equal(t("(SELECT created_at FROM t)"), undefined);
  });

  test("columnHints lines items up with the result columns around stars", () => {
    assert.deepEqual(columnHints(["Utf8", "Boolean"], 2), ["Utf8", "Boolean"]);
    assert.deepEqual(columnHints(["Utf8", "Boolean"], 3), [undefined, undefined, undefined], "a count that does not match is not trusted");
    assert.deepEqual(columnHints([STAR, "Boolean"], 4), [undefined, undefined, undefined, "Boolean"]);
    assert.deepEqual(columnHints(["Int64", STAR, "Utf8", STAR, "Boolean"], 5), ["Int64", undefined, undefined, undefined, "Boolean"]);
    assert.deepEqual(columnHints(undefined, 2), [undefined, undefined]);
  });
});
