/**
 * E1394 / LIS2-A2 records: delimiters, escapes, the record model and its text form.
 *
 * A record is fields → repeats → components. Field numbers follow the standard: field 1 is the
 * record type letter, so R-3 (the universal test ID) is `record.component(3, 4)`. Records keep
 * their text and find a field when asked for it; most records of a result message are read for
 * a handful of fields and never split whole.
 *
 * Records work on JS strings. `bytesToText` / `textToBytes` cross the byte boundary with the
 * encoding agreed per instrument (Latin-1 by default, UTF-8 by setting).
 */

export type AstmTextEncoding = 'latin1' | 'utf8';

/** The four delimiters a message's H record declares: `H|\^&` is field `|`, repeat `\`, ... */
export interface AstmDelimiters {
  readonly field: string;
  readonly repeat: string;
  readonly component: string;
  readonly escape: string;
}

/** `H|\^&`: used for records that arrive without an H record to declare their own. */
export const DEFAULT_DELIMITERS: AstmDelimiters = Object.freeze({
  field: '|',
  repeat: '\\',
  component: '^',
  escape: '&',
});

export const RECORD_TYPES = ['H', 'P', 'O', 'R', 'C', 'Q', 'S', 'M', 'L'] as const;
export type AstmRecordType = (typeof RECORD_TYPES)[number];

/**
 * Hierarchy levels [LIS2-A2 5.1]. C and M have none: they annotate the record before them.
 */
export const RECORD_LEVELS: Readonly<Record<AstmRecordType, number | null>> = Object.freeze({
  H: 0,
  L: 0,
  P: 1,
  Q: 1,
  S: 1,
  O: 2,
  R: 3,
  C: null,
  M: null,
});

export function isRecordType(type: string): type is AstmRecordType {
  return type.length === 1 && 'HPORCQSML'.includes(type);
}

/**
 * A decoded field, shaped by what the field holds so JSON stays readable: a plain string when
 * it has neither repeats nor components, `string[]` (components) when it has components but one
 * repeat, `string[][]` (repeats → components) when it repeats.
 */
export type AstmField = string | string[] | string[][];

/** What `encodeRecord` accepts per field; null and undefined are empty. */
export type AstmLeafInput = string | null | undefined;
export type AstmFieldInput =
  AstmLeafInput | readonly AstmLeafInput[] | readonly (AstmLeafInput | readonly AstmLeafInput[])[];

// ---------------------------------------------------------------------------------------------
// Delimiters

/** A usable delimiter: one printable, non-alphanumeric, non-space character. */
export function isDelimiterChar(char: string | undefined): char is string {
  if (char === undefined || char.length !== 1) return false;
  const c = char.charCodeAt(0);
  if (c <= 0x20 || c === 0x7f) return false;
  if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) {
    return false;
  }
  return true;
}

/** True when all four are usable delimiters and no two are the same. */
export function areValidDelimiters(d: AstmDelimiters): boolean {
  const all = [d.field, d.repeat, d.component, d.escape];
  return all.every(isDelimiterChar) && new Set(all).size === 4;
}

/** Stand-ins for delimiters a header leaves out, tried in order. */
const SPARE_DELIMITERS = '\\^&~@!#%$';

export interface HeaderDelimiters {
  delimiters: AstmDelimiters;
  /** Plain words when the header's declaration was unusable or incomplete; null when fine. */
  problem: string | null;
}

/**
 * Reads the delimiters an H record declares: the character after `H` is the field delimiter,
 * the next field holds repeat, component and escape in that order. Whatever is missing or
 * unusable is taken from `fallback` (when that does not collide) and reported as a problem.
 */
export function readDelimiters(
  headerText: string,
  fallback: AstmDelimiters = DEFAULT_DELIMITERS,
): HeaderDelimiters {
  const field = headerText.charAt(1);
  if (!isDelimiterChar(field)) {
    const found = field === '' ? 'nothing' : `"${field}"`;
    return {
      delimiters: fallback,
      problem: `the header declares no usable field delimiter (found ${found} after "H"); using "${fallback.field}${fallback.repeat}${fallback.component}${fallback.escape}"`,
    };
  }
  let end = headerText.indexOf(field, 2);
  if (end < 0) end = headerText.length;
  const declared = headerText.slice(2, end);
  const repeat = declared.charAt(0);
  const component = declared.charAt(1);
  const escape = declared.charAt(2);
  const candidate = { field, repeat, component, escape };
  if (declared.length === 3 && areValidDelimiters(candidate)) {
    return { delimiters: candidate, problem: null };
  }
  // Keep what is usable, fill the rest from the fallback without creating a collision.
  const taken = new Set<string>([field]);
  const pick = (mine: string, theirs: string): string => {
    for (const option of [mine, theirs, ...SPARE_DELIMITERS]) {
      if (isDelimiterChar(option) && !taken.has(option)) {
        taken.add(option);
        return option;
      }
    }
    return '\u0000'; // unreachable: three taken characters cannot exhaust the spares
  };
  const delimiters: AstmDelimiters = {
    field,
    repeat: pick(repeat, fallback.repeat),
    component: pick(component, fallback.component),
    escape: pick(escape, fallback.escape),
  };
  const shown = `${delimiters.field}${delimiters.repeat}${delimiters.component}${delimiters.escape}`;
  const problem =
    declared.length > 3 && areValidDelimiters(candidate)
      ? `the header's delimiter field "${declared}" has more than three characters; using "${shown}"`
      : `the header's delimiter field "${declared}" does not give three distinct repeat, component and escape characters; using "${shown}"`;
  return { delimiters, problem };
}

// ---------------------------------------------------------------------------------------------
// Escapes

/**
 * Decodes escape sequences written with the message's escape character (`&` stands for it
 * here): `&F&` `&S&` `&R&` `&E&` → the delimiters, `&Xhhhh&` → the characters those hex bytes
 * name, `&H&` `&N&` (highlighting) → dropped. Anything else is kept as written.
 */
export function unescapeText(text: string, d: AstmDelimiters): string {
  const esc = d.escape;
  let open = text.indexOf(esc);
  if (open < 0) return text;
  let out = '';
  let from = 0;
  while (open >= 0) {
    const close = text.indexOf(esc, open + 1);
    if (close < 0) break;
    const code = text.slice(open + 1, close);
    const decoded = decodeEscape(code, d);
    if (decoded === null) {
      // Unknown: keep the escape character literally and look again from the closing one,
      // which may open a real sequence.
      out += text.slice(from, close);
      from = close;
      open = close;
      continue;
    }
    out += text.slice(from, open) + decoded;
    from = close + 1;
    open = text.indexOf(esc, from);
  }
  return out + text.slice(from);
}

function decodeEscape(code: string, d: AstmDelimiters): string | null {
  switch (code) {
    case 'F':
      return d.field;
    case 'S':
      return d.component;
    case 'R':
      return d.repeat;
    case 'E':
      return d.escape;
    case 'H':
    case 'N':
      return '';
  }
  if (code.length >= 3 && code.length % 2 === 1 && code.charCodeAt(0) === 0x58 /* X */) {
    let out = '';
    for (let i = 1; i < code.length; i += 2) {
      const hi = hexValue(code.charCodeAt(i));
      const lo = hexValue(code.charCodeAt(i + 1));
      if (hi < 0 || lo < 0) return null;
      out += String.fromCharCode(hi * 16 + lo);
    }
    return out;
  }
  return null;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * Escapes a value so it survives as one component: delimiters and the escape character become
 * `&F&` `&S&` `&R&` `&E&`, and CR / LF (which would end the record) become `&X0D&` / `&X0A&`.
 */
export function escapeText(text: string, d: AstmDelimiters): string {
  let from = 0;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    let code: string;
    if (ch === d.escape) code = 'E';
    else if (ch === d.field) code = 'F';
    else if (ch === d.component) code = 'S';
    else if (ch === d.repeat) code = 'R';
    else if (ch === '\r') code = 'X0D';
    else if (ch === '\n') code = 'X0A';
    else continue;
    out += text.slice(from, i) + d.escape + code + d.escape;
    from = i + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

// ---------------------------------------------------------------------------------------------
// The record

/**
 * One E1394 record: its text as received plus the delimiters in force for it. Fields are found
 * when asked for, never split and kept: a decoded capture holds every record, and most of them
 * are read for a handful of fields once.
 */
export class AstmRecord {
  /** The record type letter, upper-cased (`r` → `R`); the first character as is when unknown. */
  readonly type: string;
  /** The record's text without its CR. */
  readonly text: string;
  readonly delimiters: AstmDelimiters;
  /** Plain words when the record's form is wrong (unknown type, unusable header); else null. */
  readonly problem: string | null;

  /**
   * `delimiters` are those in force before this record; an H record reads its own from its
   * text (falling back to them where its declaration is unusable).
   */
  constructor(text: string, delimiters: AstmDelimiters = DEFAULT_DELIMITERS) {
    this.text = text;
    const first = text.charAt(0);
    const type = recordTypeOf(text.charCodeAt(0));
    if (type === 'H') {
      const declared = readDelimiters(text, delimiters);
      this.type = type;
      this.delimiters = declared.delimiters;
      this.problem = declared.problem;
    } else {
      this.type = type ?? first;
      this.delimiters = delimiters;
      this.problem =
        type === null
          ? `unknown record type "${printable(first)}" in "${printable(text.slice(0, 40))}"`
          : null;
    }
  }

  /** True for the nine types LIS2-A2 defines. */
  get known(): boolean {
    return isRecordType(this.type);
  }

  /** The record's level in the P → O → R hierarchy; null for C, M and unknown types. */
  get level(): number | null {
    return isRecordType(this.type) ? RECORD_LEVELS[this.type] : null;
  }

  /** Number of fields present (trailing empty fields may have been omitted by the sender). */
  get fieldCount(): number {
    if (this.text === '') return 0;
    const f = this.delimiters.field;
    let count = 1;
    for (let at = this.text.indexOf(f); at >= 0; at = this.text.indexOf(f, at + 1)) count++;
    return count;
  }

  /** Field `n` (1-based) exactly as on the wire, escapes and delimiters included; '' if absent. */
  raw(n: number): string {
    return nthPart(this.text, this.delimiters.field, n) ?? '';
  }

  /** Field `n` as repeats of unescaped components. H-2 (the delimiter declaration) is one leaf. */
  repeats(n: number): string[][] {
    const raw = this.raw(n);
    if (this.isDeclaration(n)) return [[raw]];
    const d = this.delimiters;
    return raw.split(d.repeat).map((rep) => rep.split(d.component).map((c) => unescapeText(c, d)));
  }

  /** Components of repeat `r` of field `n`, unescaped. */
  components(n: number, r = 1): string[] {
    const rep = this.rawRepeat(n, r);
    if (rep === null) return [];
    if (this.isDeclaration(n)) return [rep];
    const d = this.delimiters;
    return rep.split(d.component).map((c) => unescapeText(c, d));
  }

  /** Component `c` of repeat `r` of field `n` (all 1-based), unescaped; '' when absent. */
  component(n: number, c = 1, r = 1): string {
    const rep = this.rawRepeat(n, r);
    if (rep === null) return '';
    if (this.isDeclaration(n)) return c === 1 ? rep : '';
    const part = nthPart(rep, this.delimiters.component, c);
    return part === null ? '' : unescapeText(part, this.delimiters);
  }

  /** Field `n` shaped for JSON: string, components, or repeats of components (see AstmField). */
  field(n: number): AstmField {
    return this.shape(this.raw(n), n);
  }

  /** All fields shaped for JSON; index 0 is field 1 (the type letter). */
  fields(): AstmField[] {
    if (this.text === '') return [];
    return this.text.split(this.delimiters.field).map((raw, i) => this.shape(raw, i + 1));
  }

  toJSON(): { type: string; fields: AstmField[] } {
    return { type: this.type, fields: this.fields() };
  }

  private shape(raw: string, n: number): AstmField {
    const d = this.delimiters;
    if (this.isDeclaration(n)) return raw;
    if (raw.includes(d.repeat)) {
      return raw
        .split(d.repeat)
        .map((rep) => rep.split(d.component).map((c) => unescapeText(c, d)));
    }
    if (raw.includes(d.component)) return raw.split(d.component).map((c) => unescapeText(c, d));
    return unescapeText(raw, d);
  }

  private rawRepeat(n: number, r: number): string | null {
    const raw = nthPart(this.text, this.delimiters.field, n);
    if (raw === null) return null;
    if (this.isDeclaration(n)) return r === 1 ? raw : null;
    return nthPart(raw, this.delimiters.repeat, r);
  }

  private isDeclaration(n: number): boolean {
    return n === 2 && this.type === 'H';
  }
}

/** The `n`th (1-based) `separator`-separated part of `text`, or null when there are fewer. */
export function nthPart(text: string, separator: string, n: number): string | null {
  let start = 0;
  for (let k = 1; k < n; k++) {
    const next = text.indexOf(separator, start);
    if (next < 0) return null;
    start = next + 1;
  }
  const end = text.indexOf(separator, start);
  return end < 0 ? (start === 0 ? text : text.slice(start)) : text.slice(start, end);
}

/** The record type for a first character code, case-insensitive; null when unknown. */
function recordTypeOf(code: number): AstmRecordType | null {
  switch (code | 0x20) {
    case 0x68:
      return 'H';
    case 0x70:
      return 'P';
    case 0x6f:
      return 'O';
    case 0x72:
      return 'R';
    case 0x63:
      return 'C';
    case 0x71:
      return 'Q';
    case 0x73:
      return 'S';
    case 0x6d:
      return 'M';
    case 0x6c:
      return 'L';
    default:
      return null;
  }
}

/** Text for error messages: control characters shown as `<1E>`. */
export function printable(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out += c < 0x20 || c === 0x7f ? `<${c.toString(16).toUpperCase().padStart(2, '0')}>` : text[i]!;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding text into records

/**
 * Splits record text at CR, CR LF or bare LF; blank lines are dropped. Returns each line with the
 * offset of its first character, which callers use to place transport errors on records.
 */
export function splitRecordLines(text: string): { lines: string[]; offsets: number[] } {
  const lines: string[] = [];
  const offsets: number[] = [];
  const n = text.length;
  const lineFeeds = text.includes('\n');
  let start = 0;
  while (start <= n) {
    let end: number;
    if (lineFeeds) {
      end = start;
      while (end < n) {
        const c = text.charCodeAt(end);
        if (c === 0x0d || c === 0x0a) break;
        end++;
      }
    } else {
      end = text.indexOf('\r', start);
      if (end < 0) end = n;
    }
    if (end > start && !isBlank(text, start, end)) {
      lines.push(text.slice(start, end));
      offsets.push(start);
    }
    start = end + 1;
  }
  return { lines, offsets };
}

function isBlank(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09) return false;
  }
  return true;
}

/**
 * Decodes CR-separated record text (CR LF and LF-only tolerated). Each H record declares the
 * delimiters for the records after it; records before any H use `delimiters`.
 */
export function decodeRecords(
  text: string,
  delimiters: AstmDelimiters = DEFAULT_DELIMITERS,
): AstmRecord[] {
  const { lines } = splitRecordLines(text);
  const records: AstmRecord[] = [];
  let current = delimiters;
  for (const line of lines) {
    const record = new AstmRecord(line, current);
    current = record.delimiters;
    records.push(record);
  }
  return records;
}

// ---------------------------------------------------------------------------------------------
// Encoding records into text

/**
 * One record's text (without CR). `fields[0]` is the type letter, `fields[n - 1]` field n. A
 * field is a string, an array of components, or an array of repeats (each a string or an array
 * of components): the same shapes `AstmRecord.field` returns. Values are escaped; trailing empty
 * fields, repeats and components are omitted. For H, field 2 is always the delimiter declaration.
 */
export function encodeRecord(
  fields: readonly AstmFieldInput[],
  d: AstmDelimiters = DEFAULT_DELIMITERS,
): string {
  const type = (fields[0] ?? '').toString();
  const isHeader = type.toUpperCase() === 'H';
  const parts: string[] = [];
  let last = 0;
  for (let i = 0; i < fields.length; i++) {
    const encoded =
      i === 1 && isHeader ? d.repeat + d.component + d.escape : encodeField(fields[i], d);
    parts.push(encoded);
    if (encoded !== '') last = i;
  }
  if (isHeader) {
    while (parts.length < 2) parts.push(d.repeat + d.component + d.escape);
    last = Math.max(last, 1);
  }
  return parts.slice(0, last + 1).join(d.field);
}

/** Records joined and each terminated by CR, ready for `textToBytes`. */
export function encodeRecords(
  records: readonly (readonly AstmFieldInput[])[],
  d: AstmDelimiters = DEFAULT_DELIMITERS,
): string {
  let out = '';
  for (const record of records) out += encodeRecord(record, d) + '\r';
  return out;
}

function encodeField(field: AstmFieldInput, d: AstmDelimiters): string {
  if (field === null || field === undefined) return '';
  if (typeof field === 'string') return escapeText(field, d);
  const repeats = field.some((item) => Array.isArray(item));
  if (!repeats) return encodeComponents(field as readonly AstmLeafInput[], d);
  const out: string[] = [];
  let last = -1;
  for (const rep of field) {
    const encoded = Array.isArray(rep)
      ? encodeComponents(rep as readonly AstmLeafInput[], d)
      : escapeText((rep as AstmLeafInput) ?? '', d);
    out.push(encoded);
    if (encoded !== '') last = out.length - 1;
  }
  return out.slice(0, last + 1).join(d.repeat);
}

function encodeComponents(components: readonly AstmLeafInput[], d: AstmDelimiters): string {
  let last = -1;
  const out: string[] = [];
  for (const c of components) {
    const encoded = c === null || c === undefined ? '' : escapeText(c, d);
    out.push(encoded);
    if (encoded !== '') last = out.length - 1;
  }
  return out.slice(0, last + 1).join(d.component);
}

// ---------------------------------------------------------------------------------------------
// Bytes ↔ text

/** Bytes as received → record text, in the instrument's agreed encoding. */
export function bytesToText(bytes: Uint8Array, encoding: AstmTextEncoding = 'latin1'): string {
  const buffer = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return buffer.toString(encoding);
}

/**
 * Record text → bytes to send. In Latin-1, characters it cannot hold become `?` rather than
 * being silently truncated to their low byte (which would turn them into other characters).
 */
export function textToBytes(text: string, encoding: AstmTextEncoding = 'latin1'): Buffer {
  if (encoding === 'latin1') {
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) > 0xff) {
        let out = '';
        for (const ch of text) out += ch.charCodeAt(0) > 0xff ? '?' : ch;
        return Buffer.from(out, 'latin1');
      }
    }
  }
  return Buffer.from(text, encoding);
}
