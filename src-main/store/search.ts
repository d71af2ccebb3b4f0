/**
 * What a history search means, in one place: the document indexed for a message, the index query
 * for a search, and the exact check each candidate must pass.
 *
 * A search is words separated by spaces ("a quoted phrase" is one word); words without a letter
 * or digit are ignored. A message matches when each word, ignoring case,
 * - is part of one of its IDs (sample, patient, control) or test codes; a word of one or two
 *   characters must be a whole ID or code (`K`, `NA`); or
 * - has three characters or more and appears in the text at the beginning of a word: `gluc`
 *   finds "Glucose", `mmol/L` finds "mmol/L", `ucose` does not.
 *
 * The index splits text into words (unicode61). To find IDs by any part, each ID word is indexed
 * with all its suffixes, so "part of an ID" becomes "beginning of an indexed word": `0123` is the
 * beginning of `0123`, a suffix of `S26000123`. The index has no positions, so it lists messages
 * having all the words anywhere; `matchesSearch` is the real test.
 */

/** Letters, digits and private-use characters: what unicode61 keeps in a word. */
const WORD_CHAR = /[\p{L}\p{N}\p{Co}]/u;
const WORD_CHARS = /[\p{L}\p{N}\p{Co}]+/gu;
const MAX_WORDS = 16;
const MAX_TOKENS_PER_WORD = 8;
/** Longer ID words are found by their beginning and by parts of their last characters. */
const MAX_SUFFIXED_LENGTH = 40;

export interface SearchWord {
  folded: string;
  /** Shorter than three characters: matches whole IDs only. */
  short: boolean;
  /** The word's own first character separates words in a text. */
  startsAtBoundary: boolean;
}

export interface SearchPlan {
  words: SearchWord[];
  /** FTS5 query listing every message that may match. */
  match: string;
  /** Stable text of the plan, to find it again by. */
  key: string;
}

/** Null when the text holds no word to search for. */
export function planSearch(input: string): SearchPlan | null {
  const words: SearchWord[] = [];
  const queries: string[] = [];
  const seen = new Set<string>();
  for (const found of input.matchAll(/"([^"]*)"|(\S+)/g)) {
    const original = (found[1] ?? found[2] ?? '').trim();
    const folded = original.toLowerCase();
    const tokens = original.match(WORD_CHARS);
    if (!tokens || seen.has(folded)) continue;
    seen.add(folded);
    const short = [...original].length < 3;
    words.push({ folded, short, startsAtBoundary: !WORD_CHAR.test([...original][0] ?? '') });
    queries.push(tokenQuery(tokens, !short));
    if (words.length === MAX_WORDS) break;
  }
  if (words.length === 0) return null;
  return { words, match: queries.join(' '), key: words.map((w) => w.folded).join('\u0000') };
}

/**
 * Whole tokens, the last one as a prefix: "mmol/L" → `"mmol" "l" *`. A word cut to
 * MAX_TOKENS_PER_WORD keeps only whole tokens, which is still implied by a match.
 */
function tokenQuery(tokens: string[], lastIsPrefix: boolean): string {
  const kept = tokens.slice(0, MAX_TOKENS_PER_WORD);
  const query = kept.map((token) => `"${token}"`).join(' ');
  return lastIsPrefix && kept.length === tokens.length ? `${query} *` : query;
}

/** The text indexed for a message: its text, then every suffix of every word of its IDs. */
export function searchDocument(text: string, ids: readonly string[]): string {
  const suffixes = new Set<string>();
  for (const id of ids) {
    for (const token of id.match(WORD_CHARS) ?? []) {
      const lower = token.toLowerCase();
      suffixes.add(lower);
      const chars = [...lower].slice(-MAX_SUFFIXED_LENGTH);
      for (let start = 1; start < chars.length; start++) suffixes.add(chars.slice(start).join(''));
    }
  }
  return `${text}\n${[...suffixes].join(' ')}`;
}

export interface Searchable {
  text: string;
  /** Sample and patient IDs, test codes, control ID. */
  ids: readonly string[];
}

export function matchesSearch(plan: SearchPlan, row: Searchable): boolean {
  let ids: string[] | null = null;
  let text: string | null = null;
  for (const word of plan.words) {
    ids ??= row.ids.map((id) => id.toLowerCase());
    if (word.short) {
      if (!ids.includes(word.folded)) return false;
      continue;
    }
    if (ids.some((id) => id.includes(word.folded))) continue;
    text ??= row.text.toLowerCase();
    if (!startsAWord(text, word)) return false;
  }
  return true;
}

/**
 * A cheap test every match passes and most other rows fail: each word occurs somewhere in the
 * lower-cased text or in the lower-cased JSON of the IDs. Lets a scan skip the exact check.
 */
export function mayMatch(plan: SearchPlan, lowerText: string, lowerIdsJson: string): boolean {
  return plan.words.every(
    (w) =>
      lowerText.includes(w.folded) ||
      lowerIdsJson.includes(w.folded) ||
      // JSON escapes these, so the word may be in an ID without being in its JSON.
      /["\\]/.test(w.folded),
  );
}

function startsAWord(text: string, word: SearchWord): boolean {
  for (let at = text.indexOf(word.folded); at >= 0; at = text.indexOf(word.folded, at + 1)) {
    if (word.startsAtBoundary || at === 0) return true;
    const before = [...text.slice(Math.max(0, at - 2), at)].pop() ?? '';
    if (!WORD_CHAR.test(before)) return true;
  }
  return false;
}
