/**
 * The session trace: every chunk of bytes in and out with its time, so that ENQ/ACK/NAK/EOT
 * timing and hex can be shown later for one instrument and connection.
 *
 * Inbound bytes that are also a stored message's raw bytes are not kept twice: the links say
 * where each chunk lies in its connection's stream (`offset`) and where each message's bytes lie
 * (its exchange, stored with the message), and the side work that writes the trace after the
 * message's commit stores such a row as the bytes no message holds (ENQ, EOT, VT, FS CR, NAKed
 * frames, junk) plus references (message ID, offset in raw, length), checked byte for byte
 * against the message before they replace anything. Reading puts the row together again, so a
 * reader always gets the bytes exactly as received. Retention never deletes a message a row
 * still refers to (store.ts purge).
 */
import type Database from 'better-sqlite3';
import { StoreError } from './errors';
import { afterClause, decodeCursor, pageLimit, toPage } from './paging';
import type { TraceRow } from './prepare';
import type { Direction, MessageExchange, Page, TraceEntry, TraceFilter } from './types';

const DEFAULT_PAGE = 1000;
const MAX_PAGE = 10_000;
/** Shorter runs stay literal: a reference costs about as many bytes as it would save. */
export const MIN_REFERENCE = 16;

interface Row {
  id: number;
  instrument_id: string;
  connection_id: string;
  at: number;
  direction: Direction;
  bytes: Buffer;
  stream_offset: number | null;
  refs: string | null;
}

/**
 * How a row's bytes are put together: a number takes that many bytes of the row's own `bytes`,
 * `[messageId, offset, length]` takes bytes of that message's raw.
 */
type Part = number | [number, number, number];

export class TraceLog {
  private readonly insertRow: Database.Statement<unknown[]>;
  private readonly countRows: Database.Statement<[], number>;
  private readonly byInstrument: Database.Statement<unknown[], Row>;
  private readonly byConnection: Database.Statement<unknown[], Row>;
  private readonly instrumentIds: Database.Statement<[], string>;
  private readonly deleteOldOf: Database.Statement<[string, number, number]>;
  private readonly oldestOf: Database.Statement<[string], number | null>;
  private readonly referring: Database.Statement<[string, number, number, number], Row>;
  private readonly restore: Database.Statement<[Buffer, number]>;
  private readonly countRefs: Database.Statement<[], number>;
  private readonly selectResolved: Database.Statement<[], number>;
  private readonly saveResolved: Database.Statement<[number]>;

  /**
   * `rawOf`: a stored message's bytes as received, by ID (the message table's reader, whatever
   * form it stores them in); undefined when there is no such message.
   */
  constructor(
    db: Database.Database,
    private readonly rawOf: (messageId: number) => Buffer | undefined,
  ) {
    this.insertRow = db.prepare(
      `INSERT INTO trace (instrument_id, connection_id, at, direction, bytes, stream_offset, refs)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.countRows = db.prepare<[], number>('SELECT count(*) FROM trace').pluck();
    const columns = 'id, instrument_id, connection_id, at, direction, bytes, stream_offset, refs';
    const select = (connection: string): Database.Statement<unknown[], Row> =>
      db.prepare(
        `SELECT ${columns} FROM trace
         WHERE instrument_id = ? ${connection} AND at >= ? AND at < ?
           AND ${afterClause('at', 'id', 'asc')}
         ORDER BY at, id LIMIT ?`,
      );
    this.byInstrument = select('');
    this.byConnection = select('AND connection_id = ?');
    // The instruments with trace rows, one index probe each (a skip-scan of trace_by_instrument).
    this.instrumentIds = db
      .prepare<[], string>(
        `WITH RECURSIVE ids(id) AS (
           SELECT min(instrument_id) FROM trace
           UNION ALL
           SELECT (SELECT min(instrument_id) FROM trace WHERE instrument_id > ids.id)
           FROM ids WHERE ids.id IS NOT NULL)
         SELECT id FROM ids WHERE id IS NOT NULL`,
      )
      .pluck();
    this.deleteOldOf = db.prepare(
      `DELETE FROM trace WHERE id IN (
         SELECT id FROM trace WHERE instrument_id = ? AND at < ? ORDER BY at LIMIT ?)`,
    );
    this.oldestOf = db
      .prepare<[string], number | null>('SELECT min(at) FROM trace WHERE instrument_id = ?')
      .pluck();
    this.referring = db.prepare(
      `SELECT ${columns} FROM trace
       WHERE instrument_id = ? AND at >= ? AND at < ? AND refs IS NOT NULL
       ORDER BY at LIMIT ?`,
    );
    this.restore = db.prepare('UPDATE trace SET bytes = ?, refs = NULL WHERE id = ?');
    this.countRefs = db
      .prepare<[], number>('SELECT count(*) FROM trace WHERE refs IS NOT NULL')
      .pluck();
    this.selectResolved = db
      .prepare<[], number>('SELECT before FROM trace_resolved WHERE id = 1')
      .pluck();
    this.saveResolved = db.prepare(
      `INSERT INTO trace_resolved (id, before) VALUES (1, ?)
       ON CONFLICT (id) DO UPDATE SET before = max(before, excluded.before)`,
    );
  }

  /** Call inside a write transaction. `stored`: the row as stored (literal bytes, references). */
  insert(row: TraceRow, stored?: { bytes: Buffer; refs: string | null }): number {
    const { instrumentId, connectionId, at, direction } = row;
    return Number(
      this.insertRow.run(
        instrumentId,
        connectionId,
        at,
        direction,
        stored?.bytes ?? row.bytes,
        row.offset,
        stored?.refs ?? null,
      ).lastInsertRowid,
    );
  }

  /** Call inside a write transaction: up to `batchSize` rows older than `time`. */
  deleteBefore(time: number, batchSize: number): number {
    let deleted = 0;
    for (const instrumentId of this.instrumentIds.all()) {
      if (deleted >= batchSize) break;
      deleted += this.deleteOldOf.run(instrumentId, time, batchSize - deleted).changes;
    }
    return deleted;
  }

  /** Every row older than this holds all its bytes. */
  resolvedBefore(): number {
    return this.selectResolved.get() ?? 0;
  }

  /**
   * Messages stored before this time are referred to by no row: a row refers only to messages
   * stored after it came, and the rows older than this either hold all their bytes or are gone.
   */
  referenceFreeBefore(): number {
    let oldest = Number.POSITIVE_INFINITY;
    for (const instrumentId of this.instrumentIds.all()) {
      oldest = Math.min(oldest, this.oldestOf.get(instrumentId) ?? oldest);
    }
    return Math.max(this.resolvedBefore(), oldest);
  }

  /**
   * Call inside a write transaction. Gives up to `batchSize` rows older than `time` their bytes
   * back from the messages they refer to, so those messages may go; returns how many. Once none
   * is left, remembers it, so that later calls start there.
   */
  resolveBefore(time: number, batchSize: number): number {
    const from = this.resolvedBefore();
    if (from >= time) return 0;
    const raws = new Map<number, Buffer>();
    let resolved = 0;
    let done = time;
    for (const instrumentId of this.instrumentIds.all()) {
      if (resolved >= batchSize) {
        done = from;
        break;
      }
      const rows = this.referring.all(instrumentId, from, time, batchSize - resolved);
      for (const row of rows) this.restore.run(this.assemble(row, raws), row.id);
      resolved += rows.length;
      // Rows at the last one's time may remain; everything before it is done.
      if (resolved >= batchSize && rows.length > 0) done = Math.min(done, rows.at(-1)!.at);
    }
    if (done > from) this.saveResolved.run(done);
    return resolved;
  }

  count(): number {
    return this.countRows.get() ?? 0;
  }

  /** Rows that hold references instead of some of their bytes. */
  countReferring(): number {
    return this.countRefs.get() ?? 0;
  }

  /** Oldest first, as the bytes went. */
  get(filter: TraceFilter): Page<TraceEntry> {
    const limit = pageLimit(filter.limit, DEFAULT_PAGE, MAX_PAGE);
    const after = decodeCursor(filter.cursor) ?? { time: -1, id: -1 };
    const rows =
      filter.connectionId === undefined
        ? this.byInstrument.all(
            filter.instrumentId,
            filter.from,
            filter.to,
            after.time,
            after.id,
            limit + 1,
          )
        : this.byConnection.all(
            filter.instrumentId,
            filter.connectionId,
            filter.from,
            filter.to,
            after.time,
            after.id,
            limit + 1,
          );
    const raws = new Map<number, Buffer>();
    return toPage(
      rows,
      limit,
      (row) => ({ time: row.at, id: row.id }),
      (row) => this.toEntry(row, raws),
    );
  }

  private toEntry(row: Row, raws: Map<number, Buffer>): TraceEntry {
    return {
      id: row.id,
      instrumentId: row.instrument_id,
      connectionId: row.connection_id,
      at: row.at,
      direction: row.direction,
      bytes: this.assemble(row, raws),
      ...(row.stream_offset === null ? {} : { offset: row.stream_offset }),
    };
  }

  /** The row's bytes as received. */
  private assemble(row: Row, raws: Map<number, Buffer>): Buffer {
    if (row.refs === null) return row.bytes;
    const parts = JSON.parse(row.refs) as Part[];
    const out: Buffer[] = [];
    let own = 0;
    for (const part of parts) {
      if (typeof part === 'number') {
        out.push(row.bytes.subarray(own, own + part));
        own += part;
        continue;
      }
      const [messageId, offset, length] = part;
      let raw = raws.get(messageId);
      if (raw === undefined) {
        raw = this.rawOf(messageId);
        if (raw === undefined) {
          throw new StoreError(
            'STORE_CORRUPT',
            `trace row ${row.id} refers to message ${messageId}, which is not in the database`,
          );
        }
        raws.set(messageId, raw);
      }
      out.push(raw.subarray(offset, offset + length));
    }
    return Buffer.concat(out);
  }
}

/** A stored message's bytes that trace rows written later may refer to. */
interface Span {
  /** Stream offsets, end exclusive. */
  start: number;
  end: number;
  messageId: number;
  /** Where the span's first byte lies in raw. */
  rawOffset: number;
  raw: Buffer;
  receivedAt: number;
}

/** How long a connection's trace rows wait for the message that may hold their bytes. */
export const HOLD_MS = 2_000;
/** Bytes of trace rows held at most; the oldest go out literally beyond it. */
export const HOLD_BYTES = 1024 * 1024;

interface Held {
  row: TraceRow;
  /** performance.now() when it arrived. */
  since: number;
}

/**
 * The messages committed lately, by connection, whose bytes trace rows may refer to, and the
 * trace rows held back for them. A message's bytes are traced before it is parsed, so its commit
 * comes after its rows were queued; a row whose bytes may still become a message's (a message
 * arriving frame by frame over seconds) waits for that commit, up to HOLD_MS and HOLD_BYTES, and
 * a connection's rows are written in the order they came. A message's spans are forgotten once
 * no row that could hold its bytes is left unwritten.
 */
export class TraceReferences {
  private readonly spans = new Map<string, Span[]>();
  /** Connections whose spans came out of stream order (a message stored before an earlier one). */
  private readonly unsorted = new Set<Span[]>();
  private held: Held[] = [];

  get size(): number {
    return this.spans.size;
  }

  /** Rows held back. */
  get holding(): number {
    return this.held.length;
  }

  add(
    instrumentId: string,
    messageId: number,
    receivedAt: number,
    raw: Buffer,
    exchange: MessageExchange,
  ): void {
    const key = connectionKey(instrumentId, exchange.connectionId);
    let list = this.spans.get(key);
    if (!list) {
      list = [];
      this.spans.set(key, list);
    }
    let rawOffset = 0;
    for (const [start, length] of exchange.ranges) {
      const last = list.at(-1);
      if (last && (last.start > start || last.end > start + length)) this.unsorted.add(list);
      list.push({ start, end: start + length, messageId, rawOffset, raw, receivedAt });
      rawOffset += length;
    }
  }

  /**
   * Takes the rows that came since the last call and returns those to write now, in the order
   * they came; the rest wait. `all`: none waits (a flush, a reader, closing).
   */
  take(rows: readonly TraceRow[], all: boolean, now = performance.now()): TraceRow[] {
    for (const row of rows) {
      this.held.push({ row, since: now });
    }
    if (this.held.length === 0) {
      this.spans.clear();
      this.unsorted.clear();
      return [];
    }
    let out: Held[];
    let keep: Held[] = [];
    if (all) {
      out = this.held;
    } else {
      out = [];
      // Per connection: the rows up to the first that may still become a message's.
      const waiting = new Set<string>();
      const covered = new Map<string, number>();
      for (const entry of this.held) {
        const key = connectionKey(entry.row.instrumentId, entry.row.connectionId);
        let end = covered.get(key);
        if (end === undefined) {
          end = this.coveredEnd(key);
          covered.set(key, end);
        }
        if (!waiting.has(key) && writable(entry, end, now)) out.push(entry);
        else {
          waiting.add(key);
          keep.push(entry);
        }
      }
      // Too much held: the oldest go (each the first held of its connection, so order stays).
      let bytes = keep.reduce((n, entry) => n + entry.row.bytes.length, 0);
      if (bytes > HOLD_BYTES) {
        let cut = 0;
        while (cut < keep.length && bytes > HOLD_BYTES) bytes -= keep[cut++]!.row.bytes.length;
        const stays = new Set(keep.slice(cut));
        out = this.held.filter((entry) => !stays.has(entry));
        keep = keep.slice(cut);
      }
    }
    this.held = keep;
    return out.map((entry) => entry.row);
  }

  /** Forgets the spans no unwritten row can refer to. Call after the rows `take` gave are written. */
  prune(): void {
    const firstHeld = new Map<string, number>();
    for (const { row } of this.held) {
      if (row.direction !== 'in' || row.offset === null) continue;
      const key = connectionKey(row.instrumentId, row.connectionId);
      if (!firstHeld.has(key)) firstHeld.set(key, row.offset);
    }
    for (const [key, list] of this.spans) {
      const from = firstHeld.get(key);
      if (from === undefined) {
        this.spans.delete(key);
        this.unsorted.delete(list);
        continue;
      }
      const kept = list.filter((span) => span.end > from);
      if (kept.length === list.length) continue;
      if (kept.length === 0) {
        this.spans.delete(key);
        this.unsorted.delete(list);
      } else {
        list.splice(0, list.length, ...kept);
      }
    }
  }

  /** Where the bytes of the messages committed from this connection end (-1: none). */
  private coveredEnd(key: string): number {
    let end = -1;
    for (const span of this.spans.get(key) ?? []) end = Math.max(end, span.end);
    return end;
  }

  /**
   * The row as stored: its bytes that no committed message holds, and the references that stand
   * for the rest (null: the row keeps all its bytes).
   */
  encode(row: TraceRow, resolvedBefore = 0): { bytes: Buffer; refs: string | null } {
    const literal = { bytes: row.bytes, refs: null };
    if (row.direction !== 'in' || row.offset === null || this.spans.size === 0) return literal;
    // Retention counts on rows older than that holding all their bytes (a clock set back).
    if (row.at < resolvedBefore) return literal;
    const list = this.spans.get(connectionKey(row.instrumentId, row.connectionId));
    if (!list) return literal;
    if (this.unsorted.delete(list)) list.sort((a, b) => a.start - b.start || a.end - b.end);
    const start = row.offset;
    const end = start + row.bytes.length;
    const parts: Part[] = [];
    const own: Buffer[] = [];
    let at = start; // the first byte of the row not yet placed
    for (let index = firstEndingAfter(list, start); index < list.length; index++) {
      const span = list[index]!;
      if (span.start >= end) break;
      // A reference only to a message stored after the bytes came: retention relies on it.
      if (span.end <= at || span.receivedAt < row.at) continue;
      const from = Math.max(at, span.start);
      const to = Math.min(end, span.end);
      if (to - from < MIN_REFERENCE) continue;
      const rawFrom = span.rawOffset + (from - span.start);
      const theirs = span.raw.subarray(rawFrom, rawFrom + (to - from));
      if (!theirs.equals(row.bytes.subarray(from - start, to - start))) continue;
      if (from > at) {
        own.push(row.bytes.subarray(at - start, from - start));
        parts.push(from - at);
      }
      parts.push([span.messageId, rawFrom, to - from]);
      at = to;
    }
    if (parts.length === 0) return literal;
    if (at < end) {
      own.push(row.bytes.subarray(at - start));
      parts.push(end - at);
    }
    return { bytes: Buffer.concat(own), refs: JSON.stringify(parts) };
  }
}

/**
 * The first span that ends after `offset`. Spans are sorted by start and do not overlap but for
 * a frame two messages share (the same range twice), so their ends are sorted too.
 */
function firstEndingAfter(list: readonly Span[], offset: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.end <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A row may go: not inbound, waited long enough, or all its bytes settled by a commit. */
function writable(entry: Held, covered: number, now: number): boolean {
  const { row } = entry;
  if (row.direction !== 'in' || row.offset === null) return true;
  if (now - entry.since >= HOLD_MS) return true;
  return row.offset + row.bytes.length <= covered;
}

function connectionKey(instrumentId: string, connectionId: string): string {
  return `${instrumentId}\u0000${connectionId}`;
}

/** The exchange as stored: `{"c": connection, "r": [offset, length, gap, length, ...]}`. */
export function exchangeToJson(exchange: MessageExchange): string {
  const flat: number[] = [];
  let end = 0;
  exchange.ranges.forEach(([offset, length], index) => {
    flat.push(index === 0 ? offset : offset - end, length);
    end = offset + length;
  });
  return JSON.stringify({ c: exchange.connectionId, r: flat });
}

/** Null for a message stored without one (or anything unreadable: the view falls back). */
export function exchangeFromJson(text: string | null): MessageExchange | null {
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as { c?: unknown; r?: unknown };
    if (typeof value.c !== 'string' || !Array.isArray(value.r) || value.r.length % 2 !== 0) {
      return null;
    }
    const ranges: [number, number][] = [];
    let end = 0;
    for (let i = 0; i < value.r.length; i += 2) {
      const gap = value.r[i] as unknown;
      const length = value.r[i + 1] as unknown;
      if (typeof gap !== 'number' || typeof length !== 'number') return null;
      const offset = end + gap;
      ranges.push([offset, length]);
      end = offset + length;
    }
    return { connectionId: value.c, ranges };
  } catch {
    return null;
  }
}
