// The storage key of an invocation in the SQLite tables: the invocation id with its uuid part moved to the front.
//
// Ids are "inv_1" + 11 partition-key digits + 22 uuid digits. The partition key is random, so keying tables by
// the id string scatters every insert over the whole B-tree and each commit rewrites one page per invocation.
// New ids carry the time in the leading uuid digits (see `timeOrderedUuid`), so keys that start with the uuid
// part put invocations of the same moment on the same few pages: commits write a handful of pages, not one per
// invocation.
//
// Invariants:
// - `storageKey` is a bijection between strings: a well-formed id maps to its 33 characters (uuid ‖ key digits),
//   any other string to "~" + itself ("~" is not a base62 digit, so the two families never collide).
// - The SQL expressions below compute the same mapping inside SQLite (migrations and the /query views).

const PREFIX = "inv_1";
const ID_LENGTH = 38;
const KEY_DIGITS_END = 16;

export function storageKey(id: string): string {
  if (id.length === ID_LENGTH && id.startsWith(PREFIX)) return id.slice(KEY_DIGITS_END) + id.slice(PREFIX.length, KEY_DIGITS_END);
  return `~${id}`;
}

/** SQL: the storage key of the id that `idExpr` evaluates to. */
export function sqlStorageKey(idExpr: string): string {
  return `(CASE WHEN length(${idExpr}) = ${ID_LENGTH} AND substr(${idExpr}, 1, 5) = '${PREFIX}' THEN substr(${idExpr}, 17) || substr(${idExpr}, 6, 11) ELSE '~' || ${idExpr} END)`;
}

/** SQL: the invocation id of the storage key that `keyExpr` evaluates to. */
export function sqlIdOfStorageKey(keyExpr: string): string {
  return `(CASE WHEN substr(${keyExpr}, 1, 1) = '~' THEN substr(${keyExpr}, 2) ELSE '${PREFIX}' || substr(${keyExpr}, 23, 11) || substr(${keyExpr}, 1, 22) END)`;
}
