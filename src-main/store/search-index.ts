/**
 * The search index is kept out of the commit that acknowledges a message: writing a message's
 * FTS5 document costs about as much as the rest of the message, and nothing waits on it. Stored
 * messages above the watermark in search_progress are indexed in batches from the store's side
 * work, before a search, and on open, so a crash leaves nothing unindexed for long.
 */
import type Database from 'better-sqlite3';
import { storedText, unpackRaw } from './compact';
import { storedSearchDocument } from './schema';

interface PendingRow {
  id: number;
  text: string;
  text_is_raw: number;
  raw: Buffer;
  raw_size: number | null;
  sample_ids: string;
  patient_ids: string;
  test_codes: string;
  control_id: string | null;
}

export class SearchIndexer {
  private readonly selectWatermark: Database.Statement<[], number>;
  private readonly selectPending: Database.Statement<[number, number], PendingRow>;
  private readonly selectNewest: Database.Statement<[], number | null>;
  private readonly insertDocument: Database.Statement<[number, string]>;
  private readonly updateWatermark: Database.Statement<[number]>;

  constructor(db: Database.Database) {
    this.selectWatermark = db
      .prepare<[], number>('SELECT indexed_through FROM search_progress WHERE id = 1')
      .pluck();
    this.selectPending = db.prepare(
      `SELECT id, text, text_is_raw, raw, raw_size, sample_ids, patient_ids, test_codes, control_id
       FROM messages
       WHERE id > ? ORDER BY id LIMIT ?`,
    );
    this.selectNewest = db.prepare<[], number | null>('SELECT max(id) FROM messages').pluck();
    this.insertDocument = db.prepare('INSERT INTO message_search (rowid, document) VALUES (?, ?)');
    this.updateWatermark = db.prepare(
      'UPDATE search_progress SET indexed_through = ? WHERE id = 1',
    );
  }

  /** Whether stored messages wait for the index. */
  behind(): boolean {
    return (this.selectNewest.get() ?? 0) > this.watermark();
  }

  /**
   * Call inside a write transaction: indexes up to `limit` waiting messages, oldest first, and
   * moves the watermark past them. Returns how many it indexed.
   */
  indexSome(limit: number): number {
    const rows = this.selectPending.all(this.watermark(), limit);
    // Documents first, then one run of inserts: FTS5 flushes its pending entries whenever another
    // statement writes between two of its inserts.
    const documents = rows.map((row) =>
      storedSearchDocument(
        storedText(row.text, row.text_is_raw, unpackRaw(row.raw, row.raw_size)),
        row.sample_ids,
        row.patient_ids,
        row.test_codes,
        row.control_id,
      ),
    );
    rows.forEach((row, i) => this.insertDocument.run(row.id, documents[i]!));
    const last = rows[rows.length - 1];
    if (last !== undefined) this.updateWatermark.run(last.id);
    return rows.length;
  }

  private watermark(): number {
    return this.selectWatermark.get() ?? 0;
  }
}
