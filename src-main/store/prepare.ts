/**
 * Checks and serializes what callers hand in, before it joins a batch: a malformed message is
 * refused on its own instead of failing the group commit it would have shared with other links.
 */
import type { ResultField } from '../../src-shared/result-fields';
import type { Result, StoredResult } from '../../src-shared/results';
import { packRaw, packResults, resultsToJson, textColumns, type StoredResults } from './compact';
import { StoreError } from './errors';
import { exchangeToJson } from './trace';
import type {
  MessageError,
  MessageExchange,
  NewEvent,
  NewMessage,
  NewTraceEntry,
  OutboxTarget,
} from './types';

const MAX_NAME = 200;
const MAX_WORD = 64;
const MAX_ID = 1_000;
/** A time past this is a caller's bug (a microsecond clock, say), not a date. */
const MAX_TIME = Date.UTC(2200, 0, 1);

export interface MessageRow {
  instrumentId: string;
  protocol: 'astm' | 'hl7';
  direction: 'in' | 'out';
  receivedAt: number;
  status: string;
  ack: string | null;
  controlId: string | null;
  dedupeKey: string | null;
  resultCount: number;
  errorCount: number;
  sampleIds: string[];
  patientIds: string[];
  sampleIdsJson: string;
  patientIdsJson: string;
  testCodesJson: string;
  errorsJson: string;
  text: string;
  /** The `raw` and `raw_size` columns: the bytes, deflated when that pays (compact.ts packRaw). */
  raw: Buffer;
  rawSize: number | null;
  /** The `text` and `text_is_raw` columns: the text itself, or how to read it from raw (compact.ts). */
  textColumn: string;
  textIsRaw: 0 | 1;
  results: StoredResult[];
  /** The `results` and `results_packed` columns (compact.ts packResults). */
  storedResults: StoredResults;
  /** Any result is QC. */
  qc: boolean;
  profile: string | null;
  /** Outbox entries to write with the message. */
  outbox: OutboxTarget[];
  /** Where its bytes lie in its connection's stream (inbound only), and that as stored. */
  exchange: MessageExchange | null;
  exchangeJson: string | null;
  /**
   * The bytes as received when `exchange` is set (`raw` may be their deflated form): what the
   * session trace's references are checked against.
   */
  wire: Buffer | null;
}

export interface EventRow {
  at: number;
  instrumentId: string | null;
  kind: string;
  level: 'info' | 'warn' | 'error';
  code: string | null;
  message: string;
  data: string | null;
}

export interface TraceRow {
  instrumentId: string;
  connectionId: string;
  at: number;
  direction: 'in' | 'out';
  bytes: Buffer;
  /** Stream offset of the first byte, when the caller knows it. */
  offset: number | null;
}

export function prepareMessage(message: NewMessage): MessageRow {
  if (typeof message !== 'object' || message === null) invalid('the message is missing');
  const results = list(message.results, 'results').map(prepareResult);
  const errors = list(message.errors, 'errors').map(prepareError);
  const sampleIds = distinct([
    ...idList(message.sampleIds, 'sampleIds'),
    ...results.map((r) => r.sampleId),
  ]);
  const patientIds = distinct([
    ...idList(message.patientIds, 'patientIds'),
    ...results.map((r) => r.patientId),
  ]);
  const testCodes = distinct(results.map((r) => r.testCode));
  const controlId = optionalText(message.controlId, 'controlId', MAX_ID);
  if (typeof message.text !== 'string') invalid('text must be a string');
  const given = bytesView(message.raw, 'raw');
  const protocol = oneOf(message.protocol, ['astm', 'hl7'], 'protocol');
  const textStored = textColumns(message.text, given, protocol);
  // Deflated bytes are a copy already; bytes stored as they are are copied (see bytes()).
  const stored = packRaw(given);
  const raw = stored.size === null ? Buffer.from(given) : stored.raw;
  const direction = oneOf(message.direction, ['in', 'out'], 'direction');
  const exchange = direction === 'in' ? prepareExchange(message.exchange, given.length) : null;
  return {
    instrumentId: name(message.instrumentId, 'instrumentId'),
    protocol,
    direction,
    receivedAt: time(message.receivedAt, 'receivedAt'),
    status: word(message.status, 'status'),
    ack: optionalText(message.ack, 'ack', MAX_WORD),
    controlId,
    dedupeKey: optionalText(message.dedupeKey, 'dedupeKey', MAX_ID),
    resultCount: results.length,
    errorCount: errors.length,
    sampleIds,
    patientIds,
    sampleIdsJson: JSON.stringify(sampleIds),
    patientIdsJson: JSON.stringify(patientIds),
    testCodesJson: JSON.stringify(testCodes),
    errorsJson: JSON.stringify(errors),
    text: message.text,
    raw,
    rawSize: stored.size,
    textColumn: textStored.text,
    textIsRaw: textStored.isRaw,
    results,
    storedResults: packResults(resultsToJson(results)),
    qc: results.some((r) => r.qc),
    profile: optionalText(message.profile, 'profile', MAX_WORD),
    outbox: prepareOutbox(message.outbox),
    exchange,
    exchangeJson: exchange === null ? null : exchangeToJson(exchange),
    wire: exchange === null ? null : stored.size === null ? raw : Buffer.from(given),
  };
}

/**
 * Ranges that do not add up to the raw bytes, or overlap, are not stored: the exchange is a
 * convenience of the trace view, never a reason to refuse a message.
 */
function prepareExchange(
  exchange: MessageExchange | null | undefined,
  rawLength: number,
): MessageExchange | null {
  if (exchange === undefined || exchange === null || typeof exchange !== 'object') return null;
  const { connectionId, ranges } = exchange;
  if (typeof connectionId !== 'string' || connectionId === '' || connectionId.length > MAX_NAME) {
    return null;
  }
  if (!Array.isArray(ranges) || ranges.length === 0) return null;
  const copy: [number, number][] = [];
  let end = 0;
  let total = 0;
  for (const range of ranges) {
    if (!Array.isArray(range)) return null;
    const [offset, length] = range;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length)) return null;
    if (offset < end || length < 1) return null;
    copy.push([offset, length]);
    end = offset + length;
    total += length;
  }
  return total === rawLength ? { connectionId, ranges: copy } : null;
}

function prepareOutbox(targets: readonly OutboxTarget[] | undefined): OutboxTarget[] {
  if (targets === undefined) return [];
  const seen = new Set<string>();
  return list(targets, 'outbox').map((target, index) => {
    if (typeof target !== 'object' || target === null) invalid(`outbox ${index + 1} is missing`);
    const destinationId = name(target.destinationId, `outbox ${index + 1}: destinationId`);
    if (seen.has(destinationId)) invalid(`outbox names the destination ${destinationId} twice`);
    seen.add(destinationId);
    const scope = oneOf(target.scope, ['patient', 'qc', 'all'], `outbox ${index + 1}: scope`);
    return { destinationId, scope };
  });
}

function prepareResult(result: Result & { qc?: boolean }, index: number): StoredResult {
  if (typeof result !== 'object' || result === null) invalid(`result ${index + 1} is missing`);
  // Written out field by field (one shape, no keyed stores): every result of every message
  // passes here. The type requires every field of RESULT_FIELDS.
  const copy: StoredResult = {
    sampleId: resultText(result, 'sampleId', index),
    patientId: resultText(result, 'patientId', index),
    testCode: resultText(result, 'testCode', index),
    value: resultText(result, 'value', index),
    units: resultText(result, 'units', index),
    flags: resultText(result, 'flags', index),
    status: resultText(result, 'status', index),
    observedAt: resultText(result, 'observedAt', index),
    qc: result.qc === true,
  };
  if (result.qc !== undefined && typeof result.qc !== 'boolean') {
    invalid(`result ${index + 1}: qc must be true or false`);
  }
  return copy;
}

function resultText(result: Result, field: ResultField, index: number): string | null {
  const value: unknown = result[field];
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') invalid(`result ${index + 1}: ${field} must be text or null`);
  return value;
}

function prepareError(error: MessageError, index: number): MessageError {
  if (typeof error?.code !== 'string' || typeof error.message !== 'string') {
    invalid(`error ${index + 1} needs a code and a message`);
  }
  return { code: error.code, message: error.message };
}

export function prepareEvent(event: NewEvent): EventRow {
  if (typeof event !== 'object' || event === null) invalid('the event is missing');
  if (typeof event.message !== 'string' || event.message === '') {
    invalid('an event needs a message');
  }
  let data: string | null = null;
  if (event.data !== undefined && event.data !== null) {
    try {
      data = JSON.stringify(event.data) ?? null;
    } catch (error) {
      invalid(`event data cannot be stored as JSON: ${(error as Error).message}`);
    }
  }
  return {
    at: time(event.at, 'at'),
    instrumentId:
      event.instrumentId === undefined || event.instrumentId === null
        ? null
        : name(event.instrumentId, 'instrumentId'),
    kind: word(event.kind, 'kind'),
    level: oneOf(event.level, ['info', 'warn', 'error'], 'level'),
    code: optionalText(event.code, 'code', MAX_WORD),
    message: event.message,
    data,
  };
}

export function prepareTrace(entry: NewTraceEntry): TraceRow {
  if (typeof entry !== 'object' || entry === null) invalid('the trace entry is missing');
  return {
    instrumentId: name(entry.instrumentId, 'instrumentId'),
    connectionId: name(entry.connectionId, 'connectionId'),
    at: time(entry.at, 'at'),
    direction: oneOf(entry.direction, ['in', 'out'], 'direction'),
    bytes: bytes(entry.bytes, 'bytes'),
    offset: offsetOf(entry.offset),
  };
}

function offsetOf(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    invalid('offset must be a whole number of bytes');
  }
  return value;
}

export function prepareConfig(config: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(config);
  } catch (error) {
    invalid(`the configuration cannot be stored as JSON: ${(error as Error).message}`);
  }
  if (json === undefined) invalid('the configuration is missing');
  return json;
}

export function name(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '' || value.length > MAX_NAME) {
    invalid(`${field} must be text of 1 to ${MAX_NAME} characters`);
  }
  return value;
}

export function time(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= MAX_TIME) {
    invalid(`${field} must be a time in whole milliseconds since 1970`);
  }
  return value;
}

function word(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '' || value.length > MAX_WORD) {
    invalid(`${field} must be text of 1 to ${MAX_WORD} characters`);
  }
  return value;
}

function optionalText(value: unknown, field: string, max: number): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length > max) {
    invalid(`${field} must be text of at most ${max} characters`);
  }
  return value;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (!allowed.includes(value as T)) invalid(`${field} must be one of ${allowed.join(', ')}`);
  return value as T;
}

function list<T>(value: readonly T[] | undefined, field: string): readonly T[] {
  if (!Array.isArray(value)) invalid(`${field} must be a list`);
  return value;
}

function idList(value: readonly string[] | undefined, field: string): string[] {
  if (value === undefined) return [];
  return list(value, field).map((id) => {
    if (typeof id !== 'string' || id.length > MAX_ID) {
      invalid(`${field} must hold text of at most ${MAX_ID} characters`);
    }
    return id;
  });
}

/** Copies: the caller may reuse its buffer before the batch is written. */
function bytes(value: unknown, field: string): Buffer {
  return Buffer.from(bytesView(value, field));
}

/** The caller's bytes without a copy: only for what is done with them before returning. */
function bytesView(value: unknown, field: string): Buffer {
  if (!(value instanceof Uint8Array)) invalid(`${field} must be bytes`);
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** Non-empty, trimmed, first occurrence kept. */
function distinct(values: readonly (string | null | undefined)[]): string[] {
  const seen = new Set<string>();
  for (const value of values) {
    const trimmed = value?.trim();
    if (trimmed) seen.add(trimmed);
  }
  return [...seen];
}

function invalid(reason: string): never {
  throw new StoreError('STORE_INVALID', `cannot store this: ${reason}`);
}
