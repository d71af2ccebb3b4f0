/**
 * Messages: writing them with their results (ID lookups and the search index follow after the
 * commit: lookups.ts, search-index.ts),
 * reading one in full, printing many for the CLI, traffic figures, and retention.
 */
import type Database from 'better-sqlite3';
import type { StoredResult } from '../../src-shared/results';
import {
  RESULT_ROW_COLUMNS,
  RESULTS_COLUMN,
  resultFromRow,
  resultsFromJson,
  storedText,
  unpackRaw,
  type ResultRow,
} from './compact';
import { StoreError } from './errors';
import { SUMMARY_COLUMNS, toSummary, type MessageHistory, type SummaryRow } from './history';
import { FILED_THROUGH } from './lookups';
import type { MessageRow } from './prepare';
import { exchangeFromJson } from './trace';
import type {
  CliMessage,
  CliMessageFilter,
  Direction,
  InsertOutcome,
  InstrumentTraffic,
  MessageDetail,
  MessageError,
  MessageOutcomeChange,
  StatsRequest,
  TrafficStats,
} from './types';

const CLI_PAGE = 500;
const MAX_BUCKETS = 10_000;

interface DetailRow extends SummaryRow {
  text: string;
  text_is_raw: number;
  raw: Buffer;
  raw_size: number | null;
  results: string | null;
  errors: string;
  dedupe_key: string | null;
  profile: string | null;
  exchange: string | null;
}

interface CliRow {
  id: number;
  text: string;
  text_is_raw: number;
  raw: Buffer;
  raw_size: number | null;
  results: string | null;
  errors: string;
  profile: string | null;
}

/**
 * The resend keys of the messages one transaction has stored so far, so that each resend check
 * reads only the tail committed before it: a new row's ID is above every stored one's, so the
 * transaction's own rows are those from `first` on.
 */
export class BatchKeys {
  readonly ids = new Map<string, number>();
  first: number | null = null;
}

export class MessageTable {
  private readonly findDuplicate: Database.Statement<
    [string, string, string, string, number],
    number
  >;
  private readonly insertMessage: Database.Statement<unknown[]>;
  private readonly selectDetail: Database.Statement<[number], DetailRow>;
  private readonly selectRaw: Database.Statement<
    [number],
    { raw: Buffer; raw_size: number | null }
  >;
  private readonly selectResults: Database.Statement<[number], ResultRow>;
  private readonly selectResultsOf: Database.Statement<[string], ResultRow>;
  private readonly selectCliRows: Database.Statement<[string], CliRow>;
  private readonly updateOutcome: Database.Statement<unknown[]>;
  private readonly deleteOld: Database.Statement<[number, number, number]>;
  private readonly countRows: Database.Statement<[], number>;

  private readonly countResults: Database.Statement<[], number>;
  private readonly selectLookupCounts: Database.Statement<
    [],
    { samples: number; patients: number }
  >;
  private readonly trafficBuckets: Database.Statement<
    [number, number, number, number, number, number],
    { instrument_id: string; direction: Direction; bucket: number; n: number }
  >;
  private readonly trafficToday: Database.Statement<
    [number, number],
    { instrument_id: string; direction: Direction; status: string; n: number }
  >;

  constructor(
    db: Database.Database,
    private readonly history: MessageHistory,
  ) {
    // The keys filed so far, then the few messages stored since (by rowid; lookups.ts) and before
    // the transaction's own (BatchKeys).
    this.findDuplicate = db
      .prepare<[string, string, string, string, number], number>(
        `SELECT message_id FROM message_dedupe WHERE instrument_id = ? AND dedupe_key = ?
         UNION ALL
         SELECT id FROM messages NOT INDEXED
         WHERE id > ${FILED_THROUGH} AND instrument_id = ? AND dedupe_key = ? AND id < ?
         LIMIT 1`,
      )
      .pluck();
    this.insertMessage = db.prepare(
      `INSERT INTO messages (instrument_id, protocol, direction, received_at, status, ack,
         control_id, dedupe_key, result_count, error_count, sample_ids, patient_ids, test_codes,
         errors, text, text_is_raw, raw, raw_size, results, results_packed, qc, profile,
         exchange)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.selectDetail = db.prepare(
      `SELECT ${SUMMARY_COLUMNS}, m.text, m.text_is_raw, m.raw, m.raw_size, ${RESULTS_COLUMN}, m.errors,
         m.dedupe_key, m.profile, m.exchange
       FROM messages m WHERE m.id = ?`,
    );
    this.selectRaw = db.prepare('SELECT raw, raw_size FROM messages WHERE id = ?');
    this.selectResults = db.prepare(
      `SELECT ${RESULT_ROW_COLUMNS} FROM results WHERE message_id = ? ORDER BY seq`,
    );
    this.selectResultsOf = db.prepare(
      `SELECT ${RESULT_ROW_COLUMNS} FROM results
       WHERE message_id IN (SELECT value FROM json_each(?)) ORDER BY message_id, seq`,
    );
    this.selectCliRows = db.prepare(
      `SELECT id, text, text_is_raw, raw, raw_size, ${RESULTS_COLUMN}, errors, profile
       FROM messages m
       WHERE id IN (SELECT value FROM json_each(?))`,
    );
    this.updateOutcome = db.prepare(
      `UPDATE messages SET status = coalesce(?, status), ack = iif(?, ?, ack),
         errors = coalesce(?, errors), error_count = coalesce(?, error_count)
       WHERE id = ?`,
    );
    // By time: the filed lookup, and the unfiled tail by rowid (lookups.ts).
    this.deleteOld = db.prepare(
      `DELETE FROM messages WHERE id IN (SELECT id FROM (
         SELECT received_at AS at, message_id AS id FROM message_times WHERE received_at < ?
         UNION ALL
         SELECT received_at, id FROM messages NOT INDEXED
         WHERE id > ${FILED_THROUGH} AND received_at < ?
         ORDER BY 1, 2 LIMIT ?))`,
    );
    this.countRows = db.prepare<[], number>('SELECT count(*) FROM messages').pluck();
    this.countResults = db
      .prepare<[], number>('SELECT coalesce(sum(result_count), 0) FROM messages')
      .pluck();
    this.selectLookupCounts = db.prepare(
      `SELECT (SELECT count(*) FROM message_samples) AS samples,
         (SELECT count(*) FROM message_patients) AS patients`,
    );
    this.trafficBuckets = db.prepare(
      `SELECT m.instrument_id, m.direction, CAST((m.received_at - ?) / ? AS INTEGER) AS bucket,
         count(*) AS n
       FROM (SELECT message_id AS id FROM message_times WHERE received_at >= ? AND received_at < ?
         UNION ALL
         SELECT id FROM messages NOT INDEXED
         WHERE id > ${FILED_THROUGH} AND received_at >= ? AND received_at < ?) t
       CROSS JOIN messages m ON m.id = t.id
       GROUP BY m.instrument_id, m.direction, bucket`,
    );
    this.trafficToday = db.prepare(
      `SELECT m.instrument_id, m.direction, m.status, count(*) AS n
       FROM (SELECT message_id AS id FROM message_times WHERE received_at >= ?
         UNION ALL
         SELECT id FROM messages NOT INDEXED WHERE id > ${FILED_THROUGH} AND received_at >= ?) t
       CROSS JOIN messages m ON m.id = t.id
       GROUP BY m.instrument_id, m.direction, m.status`,
    );
  }

  /**
   * Call inside a write transaction, with one BatchKeys for all its messages; the lookups and the
   * search index follow later (lookups.ts, search-index.ts).
   */
  insert(row: MessageRow, batch: BatchKeys = new BatchKeys()): InsertOutcome {
    const { instrumentId, dedupeKey } = row;
    const key = dedupeKey === null ? null : `${instrumentId}\u0000${dedupeKey}`;
    if (key !== null && dedupeKey !== null) {
      const existing =
        batch.ids.get(key) ??
        this.findDuplicate.get(
          instrumentId,
          dedupeKey,
          instrumentId,
          dedupeKey,
          batch.first ?? Number.MAX_SAFE_INTEGER,
        );
      if (existing !== undefined) return { id: existing, duplicate: true };
    }
    const id = Number(
      this.insertMessage.run(
        row.instrumentId,
        row.protocol,
        row.direction,
        row.receivedAt,
        row.status,
        row.ack,
        row.controlId,
        row.dedupeKey,
        row.resultCount,
        row.errorCount,
        row.sampleIdsJson,
        row.patientIdsJson,
        row.testCodesJson,
        row.errorsJson,
        row.textColumn,
        row.textIsRaw,
        row.raw,
        row.rawSize,
        row.storedResults.json,
        row.storedResults.packed,
        row.qc ? 1 : 0,
        row.profile,
        row.exchangeJson,
      ).lastInsertRowid,
    );
    batch.first ??= id;
    if (key !== null) batch.ids.set(key, id);
    return { id, duplicate: false };
  }

  /** Call inside a write transaction. */
  changeOutcome(id: number, change: MessageOutcomeChange): boolean {
    const errors = change.errors === undefined ? null : JSON.stringify(change.errors);
    return (
      this.updateOutcome.run(
        change.status ?? null,
        change.ack === undefined ? 0 : 1,
        change.ack ?? null,
        errors,
        change.errors?.length ?? null,
        id,
      ).changes > 0
    );
  }

  /** Call inside a write transaction. Results, IDs and index entries go with their messages. */
  deleteBefore(time: number, batchSize: number): number {
    return this.deleteOld.run(time, time, batchSize).changes;
  }

  count(): { messages: number; results: number } {
    return { messages: this.countRows.get() ?? 0, results: this.countResults.get() ?? 0 };
  }

  /** Rows of the sample and patient ID lookups. */
  countLookups(): { samples: number; patients: number } {
    return this.selectLookupCounts.get() ?? { samples: 0, patients: 0 };
  }

  /** The message's bytes as received, read as `get` reads them (the session trace refers to them). */
  rawOf(id: number): Buffer | undefined {
    const row = this.selectRaw.get(id);
    return row === undefined ? undefined : unpackRaw(row.raw, row.raw_size);
  }

  get(id: number): MessageDetail | null {
    const row = this.selectDetail.get(id);
    if (!row) return null;
    const raw = unpackRaw(row.raw, row.raw_size);
    return {
      ...toSummary(row),
      text: storedText(row.text, row.text_is_raw, raw),
      raw,
      results:
        row.results === null
          ? this.selectResults.all(id).map(resultFromRow)
          : resultsFromJson(row.results),
      errors: JSON.parse(row.errors) as MessageError[],
      dedupeKey: row.dedupe_key,
      profile: row.profile,
      exchange: exchangeFromJson(row.exchange),
    };
  }

  /** Pages through the history so that a caller can print any number of messages as it goes. */
  *forCli(filter: CliMessageFilter): Generator<CliMessage> {
    let remaining = filter.limit ?? Number.POSITIVE_INFINITY;
    let cursor: string | null = null;
    while (remaining > 0) {
      const page = this.history.query({
        instrumentId: filter.instrumentId,
        search: filter.search,
        cursor,
        limit: Math.min(remaining, CLI_PAGE),
      });
      const ids = JSON.stringify(page.items.map((item) => item.id));
      const details = new Map(this.selectCliRows.all(ids).map((row) => [row.id, row]));
      const results = new Map<number, StoredResult[]>();
      for (const row of details.values()) {
        if (row.results !== null) results.set(row.id, resultsFromJson(row.results));
      }
      if (results.size < details.size) {
        // Messages stored before results moved into their row, not converted yet.
        for (const row of this.selectResultsOf.all(ids)) {
          const list = results.get(row.message_id) ?? [];
          list.push(resultFromRow(row));
          results.set(row.message_id, list);
        }
      }
      for (const item of page.items) {
        const detail = details.get(item.id);
        if (!detail) continue;
        yield {
          id: item.id,
          instrumentId: item.instrumentId,
          protocol: item.protocol,
          direction: item.direction,
          receivedAt: new Date(item.receivedAt).toISOString(),
          text: storedText(detail.text, detail.text_is_raw, unpackRaw(detail.raw, detail.raw_size)),
          results: results.get(item.id) ?? [],
          controlId: item.controlId,
          sampleIds: item.sampleIds,
          patientIds: item.patientIds,
          status: item.status,
          ack: item.ack,
          errors: JSON.parse(detail.errors) as MessageError[],
          profile: detail.profile,
        };
      }
      remaining -= page.items.length;
      if (page.nextCursor === null) return;
      cursor = page.nextCursor;
    }
  }

  stats(request: StatsRequest, now: number): TrafficStats {
    const { since, bucketMs } = request;
    if (!Number.isFinite(since) || !Number.isFinite(bucketMs) || bucketMs <= 0) {
      throw new StoreError(
        'STORE_INVALID',
        'traffic figures need a start time and a bucket length',
      );
    }
    const until = request.until ?? now;
    const bucketCount = Math.min(MAX_BUCKETS, Math.max(1, Math.ceil((until - since) / bucketMs)));
    const dayStart = request.dayStart ?? localMidnight(now);
    const byInstrument = new Map<string, InstrumentTraffic>();
    const entry = (instrumentId: string): InstrumentTraffic => {
      let traffic = byInstrument.get(instrumentId);
      if (!traffic) {
        traffic = {
          instrumentId,
          in: new Array<number>(bucketCount).fill(0),
          out: new Array<number>(bucketCount).fill(0),
          today: { in: 0, out: 0, byStatus: {} },
        };
        byInstrument.set(instrumentId, traffic);
      }
      return traffic;
    };
    const end = Math.min(until, since + bucketCount * bucketMs);
    for (const row of this.trafficBuckets.all(since, bucketMs, since, end, since, end)) {
      const series = entry(row.instrument_id)[row.direction];
      if (row.bucket >= 0 && row.bucket < bucketCount) series[row.bucket] = row.n;
    }
    for (const row of this.trafficToday.all(dayStart, dayStart)) {
      const today = entry(row.instrument_id).today;
      today[row.direction] += row.n;
      today.byStatus[row.status] = (today.byStatus[row.status] ?? 0) + row.n;
    }
    const instruments = [...byInstrument.values()].sort((a, b) =>
      a.instrumentId < b.instrumentId ? -1 : a.instrumentId > b.instrumentId ? 1 : 0,
    );
    return { since, bucketMs, bucketCount, dayStart, instruments };
  }
}

function localMidnight(now: number): number {
  const day = new Date(now);
  day.setHours(0, 0, 0, 0);
  return day.getTime();
}
