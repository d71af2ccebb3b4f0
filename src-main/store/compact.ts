/**
 * The compact forms a message is stored in: its text only when it is not simply its bytes read as
 * UTF-8 (an HL7 message's usually is) or the text of its E1381 frames read as UTF-8 (an ASTM
 * message's usually is), and its results as one JSON value in the message's row
 * instead of a row each. Messages stored before these forms existed are converted in place, a
 * batch at a time, by the store's side work (MessageCompactor); until then they are read as
 * they were written.
 */
import { isUtf8 } from 'node:buffer';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type Database from 'better-sqlite3';
import type { StoredResult } from '../../src-shared/results';
import { StoreError } from './errors';

const CR = 0x0d;

/**
 * The text a message's bytes stand for when the text is not stored: the bytes as UTF-8 without
 * one final CR (an HL7 message's text is its segments joined by CR).
 */
export function textOfRaw(raw: Uint8Array): string {
  const end = raw.length > 0 && raw[raw.length - 1] === CR ? raw.length - 1 : raw.length;
  return Buffer.from(raw.buffer, raw.byteOffset, end).toString('utf8');
}

/** Whether `text` need not be stored: textOfRaw(raw) gives it back exactly. */
export function textIsRaw(text: string, raw: Uint8Array): boolean {
  const end = raw.length > 0 && raw[raw.length - 1] === CR ? raw.length - 1 : raw.length;
  // UTF-8 takes 1 to 3 bytes per UTF-16 unit: a cheap refusal before decoding anything.
  if (end < text.length || end > text.length * 3) return false;
  return isUtf8(raw) && textOfRaw(raw) === text;
}

/**
 * The `text` column of a row whose text_is_raw is 1 and whose text is the text of the E1381
 * frames its bytes hold (textOfFrames), read as UTF-8 or as Latin-1 (the two encodings an ASTM
 * link reads); '' with text_is_raw 1 is the bytes themselves read as UTF-8.
 */
export const FRAMES_TEXT = 'E1381';
export const FRAMES_TEXT_LATIN1 = 'E1381 latin1';

const STX = 0x02;
const ETX = 0x03;
const ETB = 0x17;

/**
 * The text of the E1381 frames in `raw` (each STX, frame number, text, ETX or ETB, checksum, CR
 * LF): every frame's text in order, read in `encoding`, without one final CR (an ASTM message's
 * text is its records joined by CR). What stored rows mean depends on it: it must never change.
 */
export function textOfFrames(raw: Uint8Array, encoding: 'utf8' | 'latin1' = 'utf8'): string {
  const text = frameBytes(raw);
  const end = text.length > 0 && text[text.length - 1] === CR ? text.length - 1 : text.length;
  return text.toString(encoding, 0, end);
}

function frameBytes(raw: Uint8Array): Buffer {
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const parts: Buffer[] = [];
  let total = 0;
  let stx = bytes.indexOf(STX);
  while (stx >= 0) {
    const start = Math.min(stx + 2, bytes.length);
    let end = start;
    while (end < bytes.length && bytes[end] !== ETX && bytes[end] !== ETB) end++;
    parts.push(bytes.subarray(start, end));
    total += end - start;
    stx = end < bytes.length ? bytes.indexOf(STX, end) : -1;
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
}

/** What a message's text is stored as: the `text` column and text_is_raw. */
export function textColumns(
  text: string,
  raw: Uint8Array,
  protocol: 'astm' | 'hl7',
): { text: string; isRaw: 0 | 1 } {
  // Framed bytes are longer than the text they carry (7 bytes a frame): a cheap refusal.
  if (protocol === 'astm' && raw.length > text.length) {
    if (textOfFrames(raw) === text) return { text: FRAMES_TEXT, isRaw: 1 };
    if (textOfFrames(raw, 'latin1') === text) return { text: FRAMES_TEXT_LATIN1, isRaw: 1 };
  }
  if (textIsRaw(text, raw)) return { text: '', isRaw: 1 };
  return { text, isRaw: 0 };
}

/**
 * A message's bytes are stored deflated (raw DEFLATE, RFC 1951) when that saves at least an
 * eighth of them; `raw_size` then holds their length, and is NULL for bytes stored as they are
 * (every message stored before, and those too short or too dense to gain). HL7 and ASTM text
 * deflates to 30–55 % of its size; deflating a 1 KB message costs about 20 µs, inflating it
 * about 8 µs. Level 1: the higher levels gain 2–3 % on such short texts at more CPU. A 4 KiB
 * window and a small hash table: a message is rarely longer, and most of a call's cost on short
 * input is setting up the default 256 KiB of state. Inflating reads any window size.
 */
const PACK_OPTIONS = { level: 1, windowBits: 12, memLevel: 4 } as const;
/** Shorter bytes are stored as they are: deflate's block overhead eats most of the gain. */
const MIN_PACKED = 128;
/** Shorter results JSON is stored as it is: a deflate call would cost more than it saves. */
const MIN_PACKED_RESULTS = 256;

/** Bytes deflated (PACK_OPTIONS), or null when that saves less than an eighth of them. */
function deflated(bytes: Buffer): Buffer | null {
  if (bytes.length < MIN_PACKED) return null;
  const packed = deflateRawSync(bytes, PACK_OPTIONS);
  return packed.length > bytes.length - (bytes.length >> 3) ? null : packed;
}

export interface StoredRaw {
  /** The `raw` column. */
  raw: Buffer;
  /** The `raw_size` column: the bytes' length when `raw` is them deflated, else null. */
  size: number | null;
}

/** How a message's bytes are stored (see PACK_OPTIONS). */
export function packRaw(bytes: Buffer): StoredRaw {
  const packed = deflated(bytes);
  return packed === null ? { raw: bytes, size: null } : { raw: packed, size: bytes.length };
}

export interface StoredResults {
  /** The `results` column: the JSON of resultsToJson, or null when it is deflated. */
  json: string | null;
  /** The `results_packed` column: that JSON in UTF-8, deflated when that pays, else null. */
  packed: Buffer | null;
}

/** How a message's results are stored: their JSON deflated when that pays (see PACK_OPTIONS). */
export function packResults(json: string): StoredResults {
  const packed = json.length < MIN_PACKED_RESULTS ? null : deflated(Buffer.from(json, 'utf8'));
  return packed === null ? { json, packed: null } : { json: null, packed };
}

/** The `results_packed` column back to the JSON it holds. */
export function unpackResults(packed: Buffer): string {
  try {
    return inflateRawSync(packed).toString('utf8');
  } catch (error) {
    throw damaged(error, 'results');
  }
}

/** The `raw` and `raw_size` columns back to the message's bytes, exactly. */
export function unpackRaw(raw: Buffer, size: number | null): Buffer {
  if (size === null) return raw;
  let bytes: Buffer;
  try {
    bytes = inflateRawSync(raw, { maxOutputLength: Math.max(1, size) });
  } catch (error) {
    throw damaged(error, 'bytes');
  }
  if (bytes.length !== size) throw damaged(null, 'bytes');
  return bytes;
}

function damaged(cause: unknown, what: 'bytes' | 'results'): StoreError {
  return new StoreError(
    'STORE_CORRUPT',
    `the database file is damaged: a message's stored ${what} cannot be read back`,
    { cause },
  );
}

/** The stored text column and flag back to the message's text (`raw` unpacked: unpackRaw). */
export function storedText(text: string, isRaw: number, raw: Uint8Array): string {
  if (isRaw !== 1) return text;
  if (text === FRAMES_TEXT) return textOfFrames(raw);
  if (text === FRAMES_TEXT_LATIN1) return textOfFrames(raw, 'latin1');
  return textOfRaw(raw);
}

/**
 * The first form of the `results` column: one array per result of all its fields in this order,
 * qc as 0 or 1. Still read; no longer written.
 */
type FullTuple = [
  sampleId: string | null,
  patientId: string | null,
  testCode: string | null,
  value: string | null,
  units: string | null,
  flags: string | null,
  status: string | null,
  observedAt: string | null,
  qc: 0 | 1,
];

/**
 * What `results` holds now: the sample ID, patient ID and observation time most results share,
 * once (`d`), then per result its fields in COMPACT_ORDER, where 0 stands for the shared value,
 * trailing shared values are left out, and qc is 1 or left out. A row shorter than a page's half
 * lets SQLite keep two messages to a page: with a 20-result ORU the results take about a third of
 * the space the first form did.
 */
interface CompactResults {
  d: [sampleId: string | null, patientId: string | null, observedAt: string | null];
  r: (string | null | 0 | 1)[][];
}

const SHARED = ['sampleId', 'patientId', 'observedAt'] as const;
const OWN = ['testCode', 'value', 'units', 'flags', 'status'] as const;

/** Results as the JSON the `results` column holds (CompactResults). */
export function resultsToJson(results: readonly StoredResult[]): string {
  const shared: CompactResults['d'] = [
    mostCommon(results, 'sampleId'),
    mostCommon(results, 'patientId'),
    mostCommon(results, 'observedAt'),
  ];
  const rows = new Array<(string | null | 0 | 1)[]>(results.length);
  for (let i = 0; i < results.length; i++) {
    const r = results[i]!;
    const row: (string | null | 0 | 1)[] = [r.testCode, r.value, r.units, r.flags, r.status];
    let end = row.length;
    for (let k = 0; k < SHARED.length; k++) {
      const value = r[SHARED[k]!];
      if (value === shared[k]) row.push(0);
      else {
        row.push(value);
        end = row.length;
      }
    }
    if (r.qc) {
      row.push(1);
      end = row.length;
    }
    row.length = end;
    rows[i] = row;
  }
  return JSON.stringify({ d: shared, r: rows } satisfies CompactResults);
}

export function resultsFromJson(json: string): StoredResult[] {
  const parsed = JSON.parse(json) as FullTuple[] | CompactResults;
  if (Array.isArray(parsed)) {
    return parsed.map((t) => ({
      sampleId: t[0],
      patientId: t[1],
      testCode: t[2],
      value: t[3],
      units: t[4],
      flags: t[5],
      status: t[6],
      observedAt: t[7],
      qc: t[8] === 1,
    }));
  }
  const { d, r } = parsed;
  return r.map((row) => {
    const field = (k: number) => {
      const value = row[OWN.length + k];
      return value === undefined || value === 0 ? d[k]! : (value as string | null);
    };
    return {
      sampleId: field(0),
      patientId: field(1),
      testCode: row[0] as string | null,
      value: row[1] as string | null,
      units: row[2] as string | null,
      flags: row[3] as string | null,
      status: row[4] as string | null,
      observedAt: field(2),
      qc: row[OWN.length + SHARED.length] === 1,
    };
  });
}

function mostCommon(results: readonly StoredResult[], key: (typeof SHARED)[number]): string | null {
  if (results.length === 0) return null;
  const first = results[0]![key];
  // Usually every result has the same: no counting needed.
  if (results.every((r) => r[key] === first)) return first;
  const counts = new Map<string | null, number>();
  let best = first;
  let bestCount = 0;
  for (const r of results) {
    const n = (counts.get(r[key]) ?? 0) + 1;
    counts.set(r[key], n);
    if (n > bestCount) [best, bestCount] = [r[key], n];
  }
  return best;
}

interface LegacyRow {
  id: number;
  protocol: 'astm' | 'hl7';
  text: string;
  raw: Buffer;
}

/** A row of the results table: how results were stored before migration 7 (still read). */
export interface ResultRow {
  message_id: number;
  sample_id: string | null;
  patient_id: string | null;
  test_code: string | null;
  value: string | null;
  units: string | null;
  flags: string | null;
  status: string | null;
  observed_at: string | null;
  qc: number;
}

/**
 * The results JSON of the message `m` (null: rows of the results table, before migration 7),
 * inflated by the schema's function when deflated: readers select this instead of `results`.
 */
export const RESULTS_COLUMN = 'coalesce(m.results, message_results(m.results_packed)) AS results';

/** The columns of {@link ResultRow}, for SELECTs from the results table. */
export const RESULT_ROW_COLUMNS = `message_id, sample_id, patient_id, test_code, value, units, flags,
  status, observed_at, qc`;

export function resultFromRow(row: ResultRow): StoredResult {
  return {
    sampleId: row.sample_id,
    patientId: row.patient_id,
    testCode: row.test_code,
    value: row.value,
    units: row.units,
    flags: row.flags,
    status: row.status,
    observedAt: row.observed_at,
    qc: row.qc === 1,
  };
}

/**
 * Converts messages stored in the old forms, oldest ID first, up to the ID the migration found
 * last (compact_progress); rows above it, and rows already converted, are left alone.
 */
export class MessageCompactor {
  private readonly selectProgress: Database.Statement<[], { next_id: number; last_id: number }>;
  private readonly selectRows: Database.Statement<[number, number, number], LegacyRow>;
  private readonly selectResults: Database.Statement<[number, number], ResultRow>;
  private readonly updateRow: Database.Statement<[string, number, string, number]>;
  private readonly deleteResults: Database.Statement<[number, number]>;
  private readonly updateProgress: Database.Statement<[number]>;
  private readonly finish: Database.Statement<[]>;

  constructor(db: Database.Database) {
    this.selectProgress = db.prepare('SELECT next_id, last_id FROM compact_progress WHERE id = 1');
    this.selectRows = db.prepare(
      `SELECT id, protocol, text, raw FROM messages
       WHERE id >= ? AND id <= ? AND results IS NULL AND results_packed IS NULL
       ORDER BY id LIMIT ?`,
    );
    this.selectResults = db.prepare(
      `SELECT ${RESULT_ROW_COLUMNS}
       FROM results WHERE message_id >= ? AND message_id <= ? ORDER BY message_id, seq`,
    );
    this.updateRow = db.prepare(
      'UPDATE messages SET text = ?, text_is_raw = ?, results = ? WHERE id = ?',
    );
    this.deleteResults = db.prepare(
      'DELETE FROM results WHERE message_id >= ? AND message_id <= ?',
    );
    this.updateProgress = db.prepare('UPDATE compact_progress SET next_id = ? WHERE id = 1');
    this.finish = db.prepare('DELETE FROM compact_progress WHERE id = 1');
  }

  /** Whether messages wait to be converted. */
  behind(): boolean {
    return this.selectProgress.get() !== undefined;
  }

  /** Call inside a write transaction: converts up to `limit` messages; returns how many. */
  convertSome(limit: number): number {
    const progress = this.selectProgress.get();
    if (!progress) return 0;
    const rows = this.selectRows.all(progress.next_id, progress.last_id, limit);
    const last = rows.length < limit ? progress.last_id : rows[rows.length - 1]!.id;
    const results = new Map<number, StoredResult[]>();
    if (rows.length > 0) {
      for (const r of this.selectResults.all(progress.next_id, last)) {
        let list = results.get(r.message_id);
        if (!list) results.set(r.message_id, (list = []));
        list.push(resultFromRow(r));
      }
    }
    for (const row of rows) {
      const columns = textColumns(row.text, row.raw, row.protocol);
      this.updateRow.run(
        columns.text,
        columns.isRaw,
        resultsToJson(results.get(row.id) ?? []),
        row.id,
      );
    }
    this.deleteResults.run(progress.next_id, last);
    if (last >= progress.last_id) this.finish.run();
    else this.updateProgress.run(last + 1);
    return rows.length;
  }
}
