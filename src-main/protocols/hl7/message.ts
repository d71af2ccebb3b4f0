/**
 * HL7 v2 message parsing. A parsed message keeps each segment's text and splits a field only when
 * asked, because the gateway reads a handful of fields from messages it mostly stores verbatim;
 * `toJSON()` / `parseHl7Full` build the complete decoded tree when a caller needs all of it.
 *
 * Splitting relies on String.prototype.split and indexOf (native scans), escapes are decoded only
 * in segments that contain the escape character, and a delimiter the segment does not contain is
 * never looked for again in its fields.
 */
import { protocolError, type ProtocolError, type ProtocolErrorCode } from '../errors';
import { DEFAULT_ENCODING, encodingProblem, type Hl7Encoding } from './encoding';
import { unescapeHl7, type HexCharset } from './escape';

/** Subcomponents of one component, escapes decoded. */
export type Hl7Component = readonly string[];
/** Components of one repetition. */
export type Hl7Repetition = readonly Hl7Component[];
/** A field: repetitions of components of subcomponents. An empty field is `[[['']]]`. */
export type Hl7Field = readonly Hl7Repetition[];

/** A segment in full. `fields[0]` is field 1 (for MSH: MSH-1, the field separator itself). */
export interface Hl7SegmentData {
  name: string;
  fields: Hl7Field[];
}

export interface Hl7MessageData {
  encoding: Hl7Encoding;
  segments: Hl7SegmentData[];
}

/** MSH fields the gateway routes and acknowledges by: decoded first components, '' when absent. */
export interface Hl7Header {
  fieldSeparator: string;
  /** MSH-2 as written. */
  encodingCharacters: string;
  sendingApplication: string;
  sendingFacility: string;
  receivingApplication: string;
  receivingFacility: string;
  /** MSH-7 as written (HL7 DTM). */
  dateTime: string;
  messageType: { code: string; trigger: string; structure: string };
  controlId: string;
  processingId: string;
  version: string;
  acceptAck: string;
  appAck: string;
  /** MSH-18, first repetition. */
  charset: string;
}

export interface ParseOptions {
  /** How `\Xhh..\` escapes become text: the charset the message bytes were decoded with. */
  hexCharset?: HexCharset;
}

/** Thrown by the parse functions when the text has no usable MSH segment. */
export class Hl7ParseError extends Error implements ProtocolError {
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'Hl7ParseError';
  }
}

const EMPTY_COMPONENT: Hl7Component = Object.freeze(['']);
const EMPTY_REPETITION: Hl7Repetition = Object.freeze([EMPTY_COMPONENT]);
const EMPTY_FIELD: Hl7Field = Object.freeze([EMPTY_REPETITION]);

// Which delimiters occur anywhere in a segment: fields of a segment without `~` are never
// searched for `~`, and so on.
const HAS_REPETITION = 1;
const HAS_COMPONENT = 2;
const HAS_SUBCOMPONENT = 4;
const HAS_ESCAPE = 8;

/** What every segment of one message shares. */
interface Context {
  readonly encoding: Hl7Encoding;
  readonly hexCharset: HexCharset;
}

function delimiterMask(text: string, e: Hl7Encoding): number {
  let mask = 0;
  if (e.repetition !== '' && text.includes(e.repetition)) mask |= HAS_REPETITION;
  if (e.component !== '' && text.includes(e.component)) mask |= HAS_COMPONENT;
  if (e.subcomponent !== '' && text.includes(e.subcomponent)) mask |= HAS_SUBCOMPONENT;
  if (e.escape !== '' && text.includes(e.escape)) mask |= HAS_ESCAPE;
  return mask;
}

function parseField(raw: string, c: Context, mask: number): Hl7Field {
  if (raw === '') return EMPTY_FIELD;
  if ((mask & HAS_REPETITION) !== 0 && raw.includes(c.encoding.repetition)) {
    const parts = raw.split(c.encoding.repetition);
    const out: Hl7Repetition[] = new Array<Hl7Repetition>(parts.length);
    for (let i = 0; i < parts.length; i++) out[i] = parseRepetition(parts[i]!, c, mask);
    return out;
  }
  return [parseRepetition(raw, c, mask)];
}

function parseRepetition(raw: string, c: Context, mask: number): Hl7Repetition {
  if (raw === '') return EMPTY_REPETITION;
  if ((mask & HAS_COMPONENT) !== 0 && raw.includes(c.encoding.component)) {
    const parts = raw.split(c.encoding.component);
    const out: Hl7Component[] = new Array<Hl7Component>(parts.length);
    for (let i = 0; i < parts.length; i++) out[i] = parseComponent(parts[i]!, c, mask);
    return out;
  }
  return [parseComponent(raw, c, mask)];
}

function parseComponent(raw: string, c: Context, mask: number): Hl7Component {
  if (raw === '') return EMPTY_COMPONENT;
  const escaped = (mask & HAS_ESCAPE) !== 0;
  if ((mask & HAS_SUBCOMPONENT) !== 0 && raw.includes(c.encoding.subcomponent)) {
    const parts = raw.split(c.encoding.subcomponent);
    if (escaped) {
      for (let i = 0; i < parts.length; i++) {
        parts[i] = unescapeHl7(parts[i]!, c.encoding, c.hexCharset);
      }
    }
    return parts;
  }
  return [escaped ? unescapeHl7(raw, c.encoding, c.hexCharset) : raw];
}

/** MSH, FHS and BHS number their fields from the separator: field 1 is the separator itself. */
function isHeaderName(name: string): boolean {
  return name === 'MSH' || name === 'FHS' || name === 'BHS';
}

/** The `n`-th (1-based) piece of `text` cut at `separator`; '' when there is no such piece. */
function piece(text: string, separator: string, n: number): string {
  if (separator === '') return n === 1 ? text : '';
  let start = 0;
  for (let i = 1; i < n; i++) {
    const at = text.indexOf(separator, start);
    if (at < 0) return '';
    start = at + separator.length;
  }
  const end = text.indexOf(separator, start);
  return end < 0 ? text.slice(start) : text.slice(start, end);
}

/** One segment; fields are split on first use. */
export class Hl7Segment {
  readonly name: string;
  private parts: string[] | undefined;

  /** @internal built by the parse functions */
  constructor(
    /** The segment as received, without its CR. */
    readonly text: string,
    private readonly context: Context,
  ) {
    const at = text.indexOf(context.encoding.field);
    this.name = at < 0 ? text : text.slice(0, at);
  }

  private get split(): string[] {
    return (this.parts ??= this.text.split(this.context.encoding.field));
  }

  /** Number of the last field present (trailing empty fields count when their separators do). */
  get fieldCount(): number {
    const n = this.split.length - 1;
    return isHeaderName(this.name) ? n + 1 : n;
  }

  /** Field `n` as written, escapes and delimiters intact; '' when absent. Field 0 is the name. */
  raw(n: number): string {
    if (n <= 0) return n === 0 ? this.name : '';
    if (isHeaderName(this.name)) {
      return n === 1 ? this.context.encoding.field : (this.split[n - 1] ?? '');
    }
    return this.split[n] ?? '';
  }

  /** Field `n` in full, escapes decoded. MSH-1 and MSH-2 come back as written. */
  field(n: number): Hl7Field {
    const raw = this.raw(n);
    if (n <= 2 && isHeaderName(this.name)) return raw === '' ? EMPTY_FIELD : [[[raw]]];
    return parseField(raw, this.context, delimiterMask(raw, this.context.encoding));
  }

  /**
   * Field `n` as written when it holds no delimiter and no escape, so that it is its own only
   * value; null otherwise (and for MSH-1 and MSH-2).
   */
  plain(n: number): string | null {
    const raw = this.raw(n);
    if (n <= 2 && isHeaderName(this.name)) return null;
    const e = this.context.encoding;
    for (let i = 0; i < raw.length; i++) {
      const c = raw[i];
      if (c === e.component || c === e.repetition || c === e.subcomponent || c === e.escape) {
        return null;
      }
    }
    return raw;
  }

  /** One value, escapes decoded; '' when absent. Positions are 1-based as in `OBX-5.1.1`. */
  value(n: number, component = 1, subcomponent = 1, repetition = 1): string {
    const raw = this.raw(n);
    if (raw === '') return '';
    if (n <= 2 && isHeaderName(this.name)) {
      return component === 1 && subcomponent === 1 && repetition === 1 ? raw : '';
    }
    const e = this.context.encoding;
    const leaf = piece(
      piece(piece(raw, e.repetition, repetition), e.component, component),
      e.subcomponent,
      subcomponent,
    );
    return unescapeHl7(leaf, e, this.context.hexCharset);
  }

  /** How many repetitions field `n` has (0 when empty). */
  repetitionCount(n: number): number {
    const raw = this.raw(n);
    if (raw === '') return 0;
    const rep = this.context.encoding.repetition;
    return rep === '' ? 1 : raw.split(rep).length;
  }

  toJSON(): Hl7SegmentData {
    return segmentData(this.text, this.context);
  }
}

function segmentData(text: string, c: Context): Hl7SegmentData {
  const parts = text.split(c.encoding.field);
  const name = parts[0]!;
  const mask = delimiterMask(text, c.encoding);
  let fields: Hl7Field[];
  if (isHeaderName(name)) {
    fields = new Array<Hl7Field>(parts.length);
    fields[0] = [[[c.encoding.field]]];
    if (parts.length > 1) fields[1] = parts[1] === '' ? EMPTY_FIELD : [[[parts[1]!]]];
    for (let i = 2; i < parts.length; i++) fields[i] = parseField(parts[i]!, c, mask);
  } else {
    fields = new Array<Hl7Field>(parts.length - 1);
    for (let i = 1; i < parts.length; i++) fields[i - 1] = parseField(parts[i]!, c, mask);
  }
  return { name, fields };
}

export class Hl7Message {
  private headerCache: Hl7Header | undefined;

  /** @internal built by the parse functions */
  constructor(
    readonly encoding: Hl7Encoding,
    readonly segments: readonly Hl7Segment[],
    /** Problems that did not stop the parse (a bad MSH-2, a line that is not a segment, ...). */
    readonly errors: readonly ProtocolError[],
  ) {}

  /** The `occurrence`-th segment named `name` (1-based). */
  segment(name: string, occurrence = 1): Hl7Segment | undefined {
    let seen = 0;
    for (const segment of this.segments) {
      if (segment.name === name && ++seen === occurrence) return segment;
    }
    return undefined;
  }

  segmentsNamed(name: string): Hl7Segment[] {
    return this.segments.filter((segment) => segment.name === name);
  }

  /** `get('OBX', 5)`: a value from the first segment named `name`; '' when absent. */
  get(name: string, field: number, component = 1, subcomponent = 1, repetition = 1): string {
    return this.segment(name)?.value(field, component, subcomponent, repetition) ?? '';
  }

  get msh(): Hl7Header {
    return (this.headerCache ??= readHeader(this.segments[0]!, this.encoding));
  }

  /** The whole message decoded: every field split, every escape resolved. */
  toJSON(): Hl7MessageData {
    const segments = new Array<Hl7SegmentData>(this.segments.length);
    for (let i = 0; i < segments.length; i++) segments[i] = this.segments[i]!.toJSON();
    return { encoding: this.encoding, segments };
  }

  /** The segments as received, each ended by CR. */
  toString(): string {
    let out = '';
    for (const segment of this.segments) out += segment.text + '\r';
    return out;
  }
}

function readHeader(msh: Hl7Segment, encoding: Hl7Encoding): Hl7Header {
  const v = (n: number, component = 1): string => msh.value(n, component);
  return {
    fieldSeparator: encoding.field,
    encodingCharacters: msh.raw(2),
    sendingApplication: v(3),
    sendingFacility: v(4),
    receivingApplication: v(5),
    receivingFacility: v(6),
    dateTime: v(7),
    messageType: { code: v(9), trigger: v(9, 2), structure: v(9, 3) },
    controlId: v(10),
    processingId: v(11),
    version: v(12),
    acceptAck: v(15),
    appAck: v(16),
    charset: v(18),
  };
}

/**
 * The delimiters an MSH (or FHS/BHS) at `at` declares. A bad MSH-2 falls back to `^~\&` with an
 * error; a missing or unusable field separator throws, since nothing else can be read then.
 */
export function readEncoding(
  text: string,
  at = 0,
): { encoding: Hl7Encoding; errors: ProtocolError[] } {
  const field = text[at + 3];
  if (field === undefined || field === '\r' || field === '\n') {
    const name = text.slice(at, at + 3);
    throw new Hl7ParseError('HL7_BAD_MSH', `the ${name} segment ends before its field separator`);
  }
  let end = at + 4;
  while (end < text.length) {
    const ch = text[end];
    if (ch === field || ch === '\r' || ch === '\n') break;
    end++;
  }
  const chars = text.slice(at + 4, end);
  const key = field + chars;
  const known = knownEncodings.get(key);
  if (known !== undefined) return { encoding: known, errors: [] };
  const read = checkEncoding(text.slice(at, at + 3), field, chars);
  if (read.errors.length === 0 && knownEncodings.size < 64) knownEncodings.set(key, read.encoding);
  return read;
}

/** Delimiter sets already checked: nearly every message of a link repeats the same MSH-1/2. */
const knownEncodings = new Map<string, Hl7Encoding>();

function checkEncoding(
  name: string,
  field: string,
  chars: string,
): { encoding: Hl7Encoding; errors: ProtocolError[] } {
  if (/[A-Za-z0-9\s]/.test(field)) {
    throw new Hl7ParseError(
      'HL7_BAD_MSH',
      `${name}-1 (the field separator) is ${JSON.stringify(field)}, which cannot be a delimiter`,
    );
  }
  const errors: ProtocolError[] = [];
  let problem: string | null = null;
  let encoding: Hl7Encoding | null = null;
  if (chars.length === 0) {
    problem = 'the encoding characters are missing';
  } else {
    encoding = Object.freeze({
      field,
      component: chars[0] ?? '',
      repetition: chars[1] ?? '',
      escape: chars[2] ?? '',
      subcomponent: chars[3] ?? '',
      truncation: chars[4] ?? '',
    });
    if (chars.length > 5) {
      errors.push(
        protocolError(
          'HL7_BAD_MSH',
          `${name}-2 ${JSON.stringify(chars)} has more than five encoding characters; using the first five`,
        ),
      );
    }
    problem = encodingProblem(encoding);
  }
  if (problem === null && encoding !== null) return { encoding, errors };
  const fallback = Object.freeze({ ...DEFAULT_ENCODING, field });
  if (encodingProblem(fallback) !== null) {
    throw new Hl7ParseError(
      'HL7_BAD_MSH',
      `${name}-2: ${problem}, and ^~\\& clashes with ${field}`,
    );
  }
  errors.push(
    protocolError('HL7_BAD_MSH', `${name}-2: ${problem}; reading the message with ^~\\&`),
  );
  return { encoding: fallback, errors };
}

/** Segment texts: CR is HL7's terminator, LF and CR LF are tolerated, blank lines skipped. */
export function splitSegments(text: string): string[] {
  const lines = text.includes('\n') ? text.split(/\r\n|\n|\r/) : text.split('\r');
  const out: string[] = [];
  for (let line of lines) {
    if (line === '') continue;
    if (line.charCodeAt(0) <= 0x20) {
      line = line.trimStart();
      if (line === '') continue;
    }
    out.push(line);
  }
  return out;
}

function isSegmentName(name: string): boolean {
  if (name.length !== 3) return false;
  for (let i = 0; i < 3; i++) {
    const c = name.charCodeAt(i);
    const upper = c >= 0x41 && c <= 0x5a;
    if (!upper && !(i > 0 && c >= 0x30 && c <= 0x39)) return false;
  }
  return true;
}

function start(
  text: string,
  options: ParseOptions,
): { context: Context; lines: string[]; errors: ProtocolError[] } {
  const lines = splitSegments(text);
  const first = lines[0];
  if (first === undefined) throw new Hl7ParseError('HL7_NO_MSH', 'the message is empty');
  if (!first.startsWith('MSH')) {
    throw new Hl7ParseError(
      'HL7_NO_MSH',
      `the message does not start with an MSH segment (it starts with ${JSON.stringify(first.slice(0, 20))})`,
    );
  }
  const { encoding, errors } = readEncoding(first);
  return { context: { encoding, hexCharset: options.hexCharset ?? 'latin1' }, lines, errors };
}

/**
 * Parses one message. Throws Hl7ParseError (HL7_NO_MSH, HL7_BAD_MSH) only when there is no usable
 * MSH; every other problem lands in `errors` and the message is read as far as it goes.
 */
export function parseHl7(text: string, options: ParseOptions = {}): Hl7Message {
  const { context, lines, errors } = start(text, options);
  const segments = new Array<Hl7Segment>(lines.length);
  for (let i = 0; i < lines.length; i++) {
    const segment = new Hl7Segment(lines[i]!, context);
    if (!isSegmentName(segment.name)) {
      errors.push(
        protocolError(
          'HL7_BAD_SEGMENT',
          `line ${i + 1} does not start with a segment name (${JSON.stringify(lines[i]!.slice(0, 20))})`,
        ),
      );
    }
    segments[i] = segment;
  }
  return new Hl7Message(context.encoding, segments, errors);
}

/** Parses one message straight into its full decoded tree (what `parseHl7(text).toJSON()` gives). */
export function parseHl7Full(text: string, options: ParseOptions = {}): Hl7MessageData {
  const { context, lines } = start(text, options);
  const segments = new Array<Hl7SegmentData>(lines.length);
  for (let i = 0; i < lines.length; i++) segments[i] = segmentData(lines[i]!, context);
  return { encoding: context.encoding, segments };
}
