/**
 * What a history search means, in one place: the document indexed for a message, the index query
 * for a search, and the exact check each candidate must pass.
 *
 * A search is words separated by spaces ("a quoted phrase" is one word); words without a letter
 * or digit are ignored. A message matches when each word, ignoring case,
 * - is a whole word, or several (`mmol/L`, `GLU^Glucose`), of its text, of one of its IDs
 *   (sample, patient, control) or of a test code; or
 * - has three characters or more and is part of a sample or patient ID of at most
 *   MAX_SUBSTRING_ID characters (`0123` finds `S26000123`).
 *
 * The index holds words only, never prefixes: FTS5 answers a prefix query by merging the lists of
 * every word with that prefix, which is slow for a frequent one (`gluc` → Glucose), while a word's
 * list is read lazily and can stop at a page. So every substring of three characters or more of
 * every word of a sample or patient ID is indexed as a word of its own. The index keeps no
 * positions either, so it lists messages having all the words anywhere; `matchesSearch` is the
 * real test.
 */

/** Letters, digits and private-use characters: a word, here and in the index. */
const WORD_CLASS = '[\\p{L}\\p{N}\\p{Co}]';
const WORD_CHAR = new RegExp(WORD_CLASS, 'u');
const WORD_CHARS = /[\p{L}\p{N}\p{Co}]+/gu;
// eslint-disable-next-line no-control-regex
const ASCII = /^[\u0000-\u007f]*$/;
const MAX_WORDS = 16;
const MIN_PART = 3;
/** Longer IDs are found by their whole words only; their substrings would bloat the index. */
export const MAX_SUBSTRING_ID = 32;

export interface SearchWord {
  /** Shorter than MIN_PART: matches whole words only. */
  short: boolean;
  /** The word anywhere, ignoring case. */
  part: RegExp;
  /** The word with no word character glued to either end, ignoring case. */
  whole: RegExp;
  /** JSON escapes a character of the word. */
  escapedInJson: boolean;
}

export interface SearchPlan {
  words: SearchWord[];
  /** FTS5 query listing every message that may match; null when no word can use the index. */
  match: string | null;
}

/** Null when the text holds no word to search for. */
export function planSearch(input: string): SearchPlan | null {
  const words: SearchWord[] = [];
  const terms = new Set<string>();
  const seen = new Set<string>();
  for (const found of input.matchAll(/"([^"]*)"|(\S+)/g)) {
    const original = (found[1] ?? found[2] ?? '').trim();
    const tokens = original.match(WORD_CHARS);
    if (!tokens || seen.has(original)) continue;
    seen.add(original);
    const chars = [...original];
    const short = chars.length < MIN_PART;
    // Boundaries are judged on the text as stored, where the index split it: lower-casing can
    // change them (İ becomes i and a combining dot).
    const escaped = original.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    const before = WORD_CHAR.test(chars[0] ?? '') ? `(?<!${WORD_CLASS})` : '';
    const after = WORD_CHAR.test(chars[chars.length - 1] ?? '') ? `(?!${WORD_CLASS})` : '';
    words.push({
      short,
      part: new RegExp(escaped, 'iu'),
      whole: new RegExp(`${before}${escaped}${after}`, 'iu'),
      // eslint-disable-next-line no-control-regex
      escapedInJson: /["\\\u0000-\u001f]/.test(original),
    });
    // Inside an ID the first and last tokens may be cut: only indexed parts can be asked for.
    tokens.forEach((token, i) => {
      const inner = i > 0 && i < tokens.length - 1;
      // Case is left to the tokenizer, which folds the document the same way.
      if (short || inner || [...token].length >= MIN_PART) terms.add(token);
    });
    if (words.length === MAX_WORDS) break;
  }
  if (words.length === 0) return null;
  const match = terms.size > 0 ? [...terms].map((term) => `"${term}"`).join(' ') : null;
  return { words, match };
}

/**
 * The text indexed for a message: the words of its text, then those of its IDs and every part of
 * MIN_PART characters or more of every word of its sample and patient IDs, each once. Between words only
 * spaces, so the tokenizer splits exactly where this module does (unicode61 alone would keep
 * some combining marks and unassigned characters inside words). Depends on nothing but its
 * arguments, so that the same row always gives the same document.
 */
export function searchDocument(
  text: string,
  ids: readonly string[],
  partIds: readonly string[],
): string {
  // Each word once: the index keeps no positions or counts (detail=none), so a word repeated in
  // a document adds nothing to it, or to what deleting the document must name, but costs the
  // tokenizer and the index's pending list each time. Messages repeat most of their words
  // (segment names, units, flags, the analyzer's name in every OBX).
  const words = new DistinctWords(text.length);
  words.addWordsOf(text);
  for (const id of ids) for (const token of id.match(WORD_CHARS) ?? []) words.add(token);
  for (const id of partIds) {
    if ([...id].length > MAX_SUBSTRING_ID) continue;
    for (const token of id.match(WORD_CHARS) ?? []) addParts(words, token);
  }
  return words.list.join(' ');
}

/** Whether each UTF-16 unit outside ASCII is a word character: 0 not known yet, 1 yes, 2 no. */
const unitKind = new Uint8Array(0x10000);
const astralWord = new Map<number, boolean>();

function isWordCode(code: number): boolean {
  if (code <= 0xffff) {
    let kind = unitKind[code]!;
    if (kind === 0) {
      kind = WORD_CHAR.test(String.fromCharCode(code)) ? 1 : 2;
      unitKind[code] = kind;
    }
    return kind === 1;
  }
  let word = astralWord.get(code);
  if (word === undefined) {
    word = WORD_CHAR.test(String.fromCodePoint(code));
    if (astralWord.size < 4096) astralWord.set(code, word);
  }
  return word;
}

/** 1 for the ASCII word characters 0-9, A-Z, a-z. */
const ASCII_WORD = new Uint8Array(0x80).map((_, c) =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ? 1 : 0,
);

/**
 * How many UTF-16 units the character at `i` (`c`, not ASCII) takes when it is a word character
 * (2 for a surrogate pair); 0 when it separates words (a lone surrogate does).
 */
function wordWidth(text: string, i: number, c: number): number {
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
    const low = text.charCodeAt(i + 1);
    if (low >= 0xdc00 && low <= 0xdfff) {
      return isWordCode(((c - 0xd800) << 10) + (low - 0xdc00) + 0x10000) ? 2 : 0;
    }
  }
  return isWordCode(c) ? 1 : 0;
}

function hashStep(hash: number, unit: number): number {
  return (Math.imul(hash, 31) + unit) | 0;
}

/**
 * Words in order of first appearance, each once: what a Set of strings gives, without cutting a
 * repeated word out of the text and hashing it as a new string only to find it there already. A
 * message repeats most of its words, so this takes a quarter of the time a Set of `split` took,
 * and it was most of the indexer's time per message. One table for every call (searchDocument
 * runs to its end before another can start): `slotWord[i]` is an index into `list` plus one, its
 * slot in use only when `slotStamp[i]` is this call's stamp.
 */
class DistinctWords {
  private static slotStamp = new Int32Array(0);
  private static slotWord = new Int32Array(0);
  private static stamp = 0;

  readonly list: string[] = [];
  private readonly hashes: number[] = [];
  private mask: number;

  constructor(expected: number) {
    this.mask = DistinctWords.reserve(expected) - 1;
  }

  /** Adds each word of `text`, where words are what `split(/[^\p{L}\p{N}\p{Co}]+/u)` cuts. */
  addWordsOf(text: string): void {
    const n = text.length;
    let i = 0;
    for (;;) {
      let c = 0;
      let width = 0;
      while (i < n) {
        c = text.charCodeAt(i);
        width = c < 0x80 ? ASCII_WORD[c]! : wordWidth(text, i, c);
        if (width !== 0) break;
        i++;
      }
      if (i >= n) return;
      const start = i;
      let hash = 0;
      do {
        hash = hashStep(hash, c);
        if (width === 2) hash = hashStep(hash, text.charCodeAt(i + 1));
        i += width;
        if (i >= n) break;
        c = text.charCodeAt(i);
        width = c < 0x80 ? ASCII_WORD[c]! : wordWidth(text, i, c);
      } while (width !== 0);
      this.addSlice(text, start, i, hash);
    }
  }

  add(word: string): void {
    let hash = 0;
    for (let i = 0; i < word.length; i++) hash = hashStep(hash, word.charCodeAt(i));
    this.addSlice(word, 0, word.length, hash);
  }

  private addSlice(text: string, start: number, end: number, hash: number): void {
    const { slotStamp, slotWord, stamp } = DistinctWords;
    const length = end - start;
    let slot = (hash ^ (hash >>> 15)) & this.mask;
    for (;;) {
      if (slotStamp[slot] !== stamp) break;
      const index = slotWord[slot]! - 1;
      if (this.hashes[index] === hash && same(this.list[index]!, text, start, length)) return;
      slot = (slot + 1) & this.mask;
    }
    slotStamp[slot] = stamp;
    this.list.push(start === 0 && end === text.length ? text : text.slice(start, end));
    this.hashes.push(hash);
    slotWord[slot] = this.list.length;
    if (this.list.length * 2 > this.mask) this.grow();
  }

  private grow(): void {
    this.mask = DistinctWords.reserve(this.mask + 1) - 1;
    const { slotStamp, slotWord, stamp } = DistinctWords;
    this.hashes.forEach((hash, index) => {
      let slot = (hash ^ (hash >>> 15)) & this.mask;
      while (slotStamp[slot] === stamp) slot = (slot + 1) & this.mask;
      slotStamp[slot] = stamp;
      slotWord[slot] = index + 1;
    });
  }

  /** A fresh, empty table of a power of two above twice `count` slots; returns its size. */
  private static reserve(count: number): number {
    let size = 64;
    while (size < count * 2 + 2) size *= 2;
    if (DistinctWords.slotStamp.length < size) {
      DistinctWords.slotStamp = new Int32Array(size);
      DistinctWords.slotWord = new Int32Array(size);
      DistinctWords.stamp = 0;
    }
    if (++DistinctWords.stamp === 0x7fffffff) {
      DistinctWords.slotStamp.fill(0);
      DistinctWords.stamp = 1;
    }
    return size;
  }
}

/** Whether `word` is the `length` units of `text` from `start`. */
function same(word: string, text: string, start: number, length: number): boolean {
  if (word.length !== length) return false;
  for (let k = 0; k < length; k++) {
    if (word.charCodeAt(k) !== text.charCodeAt(start + k)) return false;
  }
  return true;
}

function addParts(words: DistinctWords, token: string): void {
  // Code units are characters in ASCII, the usual case; others need splitting by code point.
  const chars = ASCII.test(token) ? token : [...token];
  const part = (start: number, end: number): string =>
    typeof chars === 'string' ? chars.slice(start, end) : chars.slice(start, end).join('');
  for (let start = 0; start + MIN_PART <= chars.length; start++) {
    for (let end = start + MIN_PART; end <= chars.length; end++) words.add(part(start, end));
  }
}

export interface Searchable {
  text: string;
  /** Sample and patient IDs, test codes, control ID. */
  ids: readonly string[];
  /** Sample and patient IDs. */
  partIds: readonly string[];
}

export function matchesSearch(plan: SearchPlan, row: Searchable): boolean {
  return plan.words.every(
    (word) =>
      word.whole.test(row.text) ||
      row.ids.some((id) => word.whole.test(id)) ||
      (!word.short &&
        row.partIds.some((id) => [...id].length <= MAX_SUBSTRING_ID && word.part.test(id))),
  );
}

/**
 * A cheap test every match passes and most other rows fail: each word occurs somewhere in the
 * text or in the JSON of the IDs. Lets a scan skip parsing the IDs for the exact check.
 */
export function mayMatch(plan: SearchPlan, text: string, idsJson: string): boolean {
  return plan.words.every((w) => w.part.test(text) || w.part.test(idsJson) || w.escapedInJson);
}
