/** The event log: status changes, protocol errors, user actions, storage problems, alarms. */
import type Database from 'better-sqlite3';
import { afterClause, decodeCursor, pageLimit, toPage } from './paging';
import { asciiLower } from '../../src-shared/event-search';
import type { EventRow } from './prepare';
import type { EventFilter, EventLevel, Page, SortOrder, StoredEvent } from './types';

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

interface Row {
  id: number;
  at: number;
  instrument_id: string | null;
  kind: string;
  level: EventLevel;
  code: string | null;
  message: string;
  data: string | null;
}

export class EventLog {
  private readonly queries = new Map<string, Database.Statement>();
  private readonly insertRow: Database.Statement<unknown[]>;
  private readonly deleteOld: Database.Statement<[number, number]>;
  private readonly countRows: Database.Statement<[], number>;

  constructor(private readonly db: Database.Database) {
    this.insertRow = db.prepare(
      `INSERT INTO events (at, instrument_id, kind, level, code, message, data)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.deleteOld = db.prepare(
      `DELETE FROM events WHERE id IN (
         SELECT id FROM events WHERE at < ? ORDER BY at, id LIMIT ?)`,
    );
    this.countRows = db.prepare<[], number>('SELECT count(*) FROM events').pluck();
  }

  /** Call inside a write transaction. */
  insert(row: EventRow): number {
    const { at, instrumentId, kind, level, code, message, data } = row;
    return Number(
      this.insertRow.run(at, instrumentId, kind, level, code, message, data).lastInsertRowid,
    );
  }

  /** Call inside a write transaction. */
  deleteBefore(time: number, batchSize: number): number {
    return this.deleteOld.run(time, batchSize).changes;
  }

  count(): number {
    return this.countRows.get() ?? 0;
  }

  list(filter: EventFilter): Page<StoredEvent> {
    const limit = pageLimit(filter.limit, DEFAULT_PAGE, MAX_PAGE);
    const order: SortOrder = filter.order === 'asc' ? 'asc' : 'desc';
    const after = decodeCursor(filter.cursor);
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: string, ...values: unknown[]): void => {
      where.push(clause);
      params.push(...values);
    };
    if (filter.instrumentId !== undefined) add('instrument_id = ?', filter.instrumentId);
    if (filter.kind !== undefined) add('kind = ?', filter.kind);
    if (filter.level !== undefined) add('level = ?', filter.level);
    if (filter.from !== undefined) add('at >= ?', filter.from);
    if (filter.to !== undefined) add('at < ?', filter.to);
    const search = asciiLower(filter.search?.trim() ?? '');
    if (search !== '') {
      // instr, not LIKE: % and _ in what was typed are plain characters.
      add(
        `(instr(lower(message), ?) > 0 OR instr(lower(coalesce(code, '')), ?) > 0
          OR instr(lower(kind), ?) > 0 OR instr(lower(coalesce(instrument_id, '')), ?) > 0)`,
        search,
        search,
        search,
        search,
      );
    }
    if (after) add(afterClause('at', 'id', order), after.time, after.id);
    const sql = `SELECT id, at, instrument_id, kind, level, code, message, data FROM events
      ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY at ${order}, id ${order} LIMIT ${limit + 1}`;
    let statement = this.queries.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.queries.set(sql, statement);
    }
    const rows = statement.all(...params) as Row[];
    return toPage(rows, limit, (row) => ({ time: row.at, id: row.id }), toEvent);
  }
}

function toEvent(row: Row): StoredEvent {
  return {
    id: row.id,
    at: row.at,
    instrumentId: row.instrument_id,
    kind: row.kind,
    level: row.level,
    code: row.code,
    message: row.message,
    data: row.data === null ? null : (JSON.parse(row.data) as unknown),
  };
}
