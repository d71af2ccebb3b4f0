/**
 * The session trace: every chunk of bytes in and out with its time, so that ENQ/ACK/NAK/EOT
 * timing and hex can be shown later for one instrument and connection.
 */
import type Database from 'better-sqlite3';
import { afterClause, decodeCursor, pageLimit, toPage } from './paging';
import type { TraceRow } from './prepare';
import type { Direction, Page, TraceEntry, TraceFilter } from './types';

const DEFAULT_PAGE = 1000;
const MAX_PAGE = 10_000;

interface Row {
  id: number;
  instrument_id: string;
  connection_id: string;
  at: number;
  direction: Direction;
  bytes: Buffer;
}

export class TraceLog {
  private readonly insertRow: Database.Statement<unknown[]>;
  private readonly deleteOld: Database.Statement<[number, number]>;
  private readonly countRows: Database.Statement<[], number>;
  private readonly byInstrument: Database.Statement<unknown[], Row>;
  private readonly byConnection: Database.Statement<unknown[], Row>;

  constructor(db: Database.Database) {
    this.insertRow = db.prepare(
      `INSERT INTO trace (instrument_id, connection_id, at, direction, bytes)
       VALUES (?, ?, ?, ?, ?)`,
    );
    this.deleteOld = db.prepare(
      `DELETE FROM trace WHERE id IN (
         SELECT id FROM trace WHERE at < ? ORDER BY at, id LIMIT ?)`,
    );
    this.countRows = db.prepare<[], number>('SELECT count(*) FROM trace').pluck();
    const select = (connection: string): Database.Statement<unknown[], Row> =>
      db.prepare(
        `SELECT id, instrument_id, connection_id, at, direction, bytes FROM trace
         WHERE instrument_id = ? ${connection} AND at >= ? AND at < ?
           AND ${afterClause('at', 'id', 'asc')}
         ORDER BY at, id LIMIT ?`,
      );
    this.byInstrument = select('');
    this.byConnection = select('AND connection_id = ?');
  }

  /** Call inside a write transaction. */
  insert(row: TraceRow): number {
    const { instrumentId, connectionId, at, direction, bytes } = row;
    return Number(
      this.insertRow.run(instrumentId, connectionId, at, direction, bytes).lastInsertRowid,
    );
  }

  /** Call inside a write transaction. */
  deleteBefore(time: number, batchSize: number): number {
    return this.deleteOld.run(time, batchSize).changes;
  }

  count(): number {
    return this.countRows.get() ?? 0;
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
    return toPage(rows, limit, (row) => ({ time: row.at, id: row.id }), toEntry);
  }
}

function toEntry(row: Row): TraceEntry {
  return {
    id: row.id,
    instrumentId: row.instrument_id,
    connectionId: row.connection_id,
    at: row.at,
    direction: row.direction,
    bytes: row.bytes,
  };
}
