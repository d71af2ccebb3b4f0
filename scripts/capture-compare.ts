/**
 * What a decoded capture should hold, and the differences between that and what the decoder
 * made of it, in plain words. Only what an expectation names is looked at.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Result } from '../src-shared/results';
import type { DecodedAstmMessage } from '../src-main/protocols/astm/decode';
import type { AstmComment, AstmHeader, AstmResultSource } from '../src-main/protocols/astm/message';

/** A look inside one record: `record` is its position in the message's records, from 0. */
export interface RecordCheck {
  record: number;
  type?: string;
  /** With `components`, `repeatCount` or `firstOfRepeats`: the field (1-based, as E1394). */
  field?: number;
  /** Components of the field's first repeat, unescaped. */
  components?: string[];
  repeatCount?: number;
  /** The first component of each repeat. */
  firstOfRepeats?: string[];
  textLength?: number;
  textEnd?: string;
}

export interface CaptureExpectation {
  /** The analyzer that sent it, for the report. */
  device: string;
  /** Record type letters in order (`HPORL`). */
  recordTypes?: string;
  recordCount?: number;
  records?: RecordCheck[];
  /** Header fields to compare; the others are not looked at. */
  header?: Partial<AstmHeader>;
  resultCount: number;
  /** Normalized results by position in `results`, from 0: the fields given. */
  results?: Record<number, Partial<Result>>;
  commentCount?: number;
  /** Comments by position in `comments`, from 0: the properties given. */
  comments?: Record<number, Partial<AstmComment>>;
  /** Where results came from, by position from 0: the properties given. */
  resultSources?: Record<number, Partial<AstmResultSource>>;
  /** Error codes in order; empty when none may be reported. */
  errors: string[];
  /** Words the first error's message must contain. */
  firstErrorContains?: string[];
  termination?: string | null;
  /** The readable text kept for input that is not ASTM: exactly, its start, words in it. */
  text?: string;
  textStart?: string;
  textContains?: string[];
}

/** Differences between the decoded messages and the expectation; none when they agree. */
export function compareCapture(
  messages: readonly DecodedAstmMessage[],
  expected: CaptureExpectation,
): string[] {
  if (messages.length !== 1) return [`${messages.length} messages, expected 1`];
  const m = messages[0]!;
  const out: string[] = [];
  const differs = (what: string, actual: unknown, wanted: unknown): void => {
    if (!isDeepStrictEqual(actual, wanted)) {
      out.push(`${what}: ${show(actual)}, expected ${show(wanted)}`);
    }
  };

  const types = m.records.map((r) => r.type).join('');
  if (expected.recordTypes !== undefined) differs('record types', types, expected.recordTypes);
  if (expected.recordCount !== undefined) differs('records', types.length, expected.recordCount);
  for (const check of expected.records ?? []) out.push(...checkRecord(m, check));

  for (const [key, wanted] of Object.entries(expected.header ?? {})) {
    const header = m.header as Record<string, unknown> | null;
    differs(`header ${key}`, header === null ? undefined : header[key], wanted);
  }

  differs('results', m.results.length, expected.resultCount);
  for (const [at, wanted] of entries(expected.results)) {
    const actual = m.results[at];
    if (actual === undefined) {
      out.push(`results[${at}] missing`);
      continue;
    }
    for (const key of Object.keys(wanted) as (keyof Result)[]) {
      differs(`results[${at}].${key}`, actual[key], wanted[key]);
    }
  }

  if (expected.commentCount !== undefined) {
    differs('comments', m.comments.length, expected.commentCount);
  }
  out.push(...compareParts('comments', m.comments, expected.comments));
  out.push(...compareParts('resultSources', m.resultSources, expected.resultSources));

  differs(
    'errors',
    m.errors.map((e) => e.code),
    expected.errors,
  );
  const first = m.errors[0]?.message ?? '';
  for (const words of expected.firstErrorContains ?? []) {
    if (!first.includes(words)) out.push(`first error does not say ${show(words)}: ${show(first)}`);
  }
  if (expected.termination !== undefined)
    differs('termination', m.termination, expected.termination);
  if (expected.text !== undefined) differs('text', m.text, expected.text);
  if (expected.textStart !== undefined && !m.text.startsWith(expected.textStart)) {
    out.push(`text does not start with ${show(expected.textStart)}: ${show(m.text)}`);
  }
  for (const words of expected.textContains ?? []) {
    if (!m.text.includes(words)) out.push(`text does not contain ${show(words)}`);
  }
  return out;
}

function checkRecord(m: DecodedAstmMessage, check: RecordCheck): string[] {
  const record = m.records[check.record];
  const name = `records[${check.record}]`;
  if (record === undefined) return [`${name} missing`];
  const out: string[] = [];
  const differs = (what: string, actual: unknown, wanted: unknown): void => {
    if (wanted !== undefined && !isDeepStrictEqual(actual, wanted)) {
      out.push(`${name} ${what}: ${show(actual)}, expected ${show(wanted)}`);
    }
  };
  differs('type', record.type, check.type);
  differs('text length', record.text.length, check.textLength);
  if (check.textEnd !== undefined && !record.text.endsWith(check.textEnd)) {
    out.push(`${name} does not end with ${show(check.textEnd)}`);
  }
  if (check.field !== undefined) {
    const field = `field ${check.field}`;
    const repeats = record.repeats(check.field);
    differs(`${field} components`, record.components(check.field), check.components);
    differs(`${field} repeats`, repeats.length, check.repeatCount);
    differs(
      `${field} first components`,
      repeats.map((rep) => rep[0]),
      check.firstOfRepeats,
    );
  }
  return out;
}

function compareParts<T extends object>(
  label: string,
  actual: readonly T[],
  expected: Record<number, Partial<T>> | undefined,
): string[] {
  const out: string[] = [];
  for (const [at, wanted] of entries(expected)) {
    const item = actual[at] as Record<string, unknown> | undefined;
    if (item === undefined) {
      out.push(`${label}[${at}] missing`);
      continue;
    }
    for (const [key, value] of Object.entries(wanted)) {
      if (!isDeepStrictEqual(item[key], value)) {
        out.push(`${label}[${at}].${key}: ${show(item[key])}, expected ${show(value)}`);
      }
    }
  }
  return out;
}

/** Entries of a by-position record, positions as numbers (JSON-style keys are strings). */
function entries<T>(byPosition: Record<number, T> | undefined): [number, T][] {
  return Object.entries(byPosition ?? {}).map(([key, value]) => [Number(key), value]);
}

function show(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}
