/**
 * The lookups derived from a stored row, filed after the commit that acknowledged it: its sample
 * and patient IDs (message_samples, message_patients), its resend check's key (message_dedupe)
 * and its place in history and in its instrument's history (message_times, message_instruments). Every page a commit touches is written whole to the log, so the
 * acknowledging commit holds the row and what cannot be rebuilt from it; the side work files the
 * rest for many messages at once, up to the mark in lookup_progress. Messages above the mark
 * (the tail: what was stored since the last side work, or before a crash) are few, and readers
 * find them by rowid range, so a lookup never misses a stored message.
 */
import type Database from 'better-sqlite3';

/** The tail's lower bound, for queries that look at it (history.ts, messages.ts). */
export const FILED_THROUGH = '(SELECT filed_through FROM lookup_progress WHERE id = 1)';

export class LookupFiler {
  private readonly selectMark: Database.Statement<[], number>;
  private readonly selectNewest: Database.Statement<[], number | null>;
  private readonly selectBound: Database.Statement<
    [number, number],
    { through: number | null; n: number }
  >;
  private readonly fileSamples: Database.Statement<[number, number]>;
  private readonly filePatients: Database.Statement<[number, number]>;
  private readonly fileKeys: Database.Statement<[number, number]>;
  private readonly fileInstruments: Database.Statement<[number, number]>;
  private readonly fileTimes: Database.Statement<[number, number]>;
  private readonly updateMark: Database.Statement<[number]>;

  constructor(db: Database.Database) {
    this.selectMark = db
      .prepare<[], number>('SELECT filed_through FROM lookup_progress WHERE id = 1')
      .pluck();
    this.selectNewest = db.prepare<[], number | null>('SELECT max(id) FROM messages').pluck();
    this.selectBound = db.prepare(
      `SELECT max(id) AS through, count(*) AS n
       FROM (SELECT id FROM messages WHERE id > ? ORDER BY id LIMIT ?)`,
    );
    this.fileSamples = db.prepare(
      `INSERT OR IGNORE INTO message_samples (sample_id, received_at, message_id)
       SELECT j.value, m.received_at, m.id FROM messages m, json_each(m.sample_ids) j
       WHERE m.id > ? AND m.id <= ?`,
    );
    this.filePatients = db.prepare(
      `INSERT OR IGNORE INTO message_patients (patient_id, received_at, message_id)
       SELECT j.value, m.received_at, m.id FROM messages m, json_each(m.patient_ids) j
       WHERE m.id > ? AND m.id <= ?`,
    );
    this.fileKeys = db.prepare(
      `INSERT OR IGNORE INTO message_dedupe (instrument_id, dedupe_key, message_id)
       SELECT m.instrument_id, m.dedupe_key, m.id FROM messages m
       WHERE m.id > ? AND m.id <= ? AND m.dedupe_key IS NOT NULL`,
    );
    this.fileInstruments = db.prepare(
      `INSERT OR IGNORE INTO message_instruments (instrument_id, received_at, message_id)
       SELECT m.instrument_id, m.received_at, m.id FROM messages m WHERE m.id > ? AND m.id <= ?`,
    );
    this.fileTimes = db.prepare(
      `INSERT OR IGNORE INTO message_times (received_at, message_id)
       SELECT m.received_at, m.id FROM messages m WHERE m.id > ? AND m.id <= ?`,
    );
    this.updateMark = db.prepare('UPDATE lookup_progress SET filed_through = ? WHERE id = 1');
  }

  /** Whether stored messages wait to be filed. */
  behind(): boolean {
    return (this.selectNewest.get() ?? 0) > this.mark();
  }

  /**
   * Call inside a write transaction: files the lookups of up to `limit` waiting messages, oldest
   * first, and moves the mark past them. Returns how many messages it filed.
   */
  fileSome(limit: number): number {
    const from = this.mark();
    const { through, n } = this.selectBound.get(from, limit) ?? { through: null, n: 0 };
    if (through === null) return 0;
    this.fileSamples.run(from, through);
    this.filePatients.run(from, through);
    this.fileKeys.run(from, through);
    this.fileInstruments.run(from, through);
    this.fileTimes.run(from, through);
    this.updateMark.run(through);
    return n;
  }

  private mark(): number {
    return this.selectMark.get() ?? 0;
  }
}
