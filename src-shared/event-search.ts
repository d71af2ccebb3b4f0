/**
 * The event log's text search, the same in the store's query and for live entries on screen:
 * the words of the message, the code (`ASTM_BAD_CHECKSUM`), the kind and the instrument ID,
 * ignoring the case of A–Z (as SQLite's `lower` does).
 */

/** A–Z to a–z only, so the store and the screen agree on every character. */
export function asciiLower(text: string): string {
  return text.replace(/[A-Z]/gu, (letter) => letter.toLowerCase());
}

export function eventMatchesSearch(
  entry: { message: string; code: string | null; kind: string; instrumentId: string | null },
  search: string,
): boolean {
  const needle = asciiLower(search.trim());
  if (needle === '') return true;
  return [entry.message, entry.code ?? '', entry.kind, entry.instrumentId ?? ''].some((field) =>
    asciiLower(field).includes(needle),
  );
}
