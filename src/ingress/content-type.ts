// Matching a request's content type against the media range a handler accepts (`application/json`,
// `text/*`, `*/*`). Case-sensitive on the media type, as the reference is; parameters (`; charset=...`) are
// ignored.

export function contentTypeMatches(accepted: string, actual: string): boolean {
  const media = actual.split(";")[0]!.trim();
  for (const range of accepted.split(",")) {
    const r = range.split(";")[0]!.trim();
    if (r === "*/*" || r === media) return true;
    if (r.endsWith("/*") && media.startsWith(r.slice(0, -1))) return true;
  }
  return false;
}
