/** Instrument configurations, kept so that they can be edited from the UI later. */
import type Database from 'better-sqlite3';
import type { InstrumentRecord, InstrumentSource } from './types';

interface Row {
  id: string;
  config: string;
  source: InstrumentSource;
  created_at: number;
  updated_at: number;
}

export class InstrumentTable {
  private readonly upsertRow: Database.Statement<
    [string, string, InstrumentSource, number, number]
  >;
  private readonly selectOne: Database.Statement<[string], Row>;
  private readonly selectAll: Database.Statement<[], Row>;
  private readonly deleteRow: Database.Statement<[string]>;

  constructor(db: Database.Database) {
    this.upsertRow = db.prepare(
      `INSERT INTO instruments (id, config, source, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET config = excluded.config, source = excluded.source,
         updated_at = excluded.updated_at`,
    );
    this.selectOne = db.prepare(
      'SELECT id, config, source, created_at, updated_at FROM instruments WHERE id = ?',
    );
    this.selectAll = db.prepare(
      'SELECT id, config, source, created_at, updated_at FROM instruments ORDER BY id',
    );
    this.deleteRow = db.prepare('DELETE FROM instruments WHERE id = ?');
  }

  /** Call inside a write transaction. */
  upsert(id: string, configJson: string, source: InstrumentSource, now: number): InstrumentRecord {
    this.upsertRow.run(id, configJson, source, now, now);
    const row = this.selectOne.get(id);
    if (!row) throw new Error(`instrument ${id} vanished while being saved`);
    return toRecord(row);
  }

  get(id: string): InstrumentRecord | null {
    const row = this.selectOne.get(id);
    return row ? toRecord(row) : null;
  }

  list(): InstrumentRecord[] {
    return this.selectAll.all().map(toRecord);
  }

  /** Call inside a write transaction. */
  delete(id: string): boolean {
    return this.deleteRow.run(id).changes > 0;
  }
}

function toRecord(row: Row): InstrumentRecord {
  return {
    id: row.id,
    config: JSON.parse(row.config) as unknown,
    source: row.source,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
