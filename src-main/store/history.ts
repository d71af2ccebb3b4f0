/**
 * History queries: pages of message summaries by time, instrument, status, sample or patient ID
 * and search words, newest first, in keyset pages.
 */
import type Database from 'better-sqlite3';
import type { Protocol } from '../../src-shared/results';
import { FILED_THROUGH } from './lookups';
import { afterClause, decodeCursor, pageLimit, toPage, type Position } from './paging';
import { matchesSearch, mayMatch, planSearch, type SearchPlan } from './search';
import type { Direction, MessageFilter, MessageSummary, Page, SortOrder } from './types';

const PREVIEW_CHARS = 200;
const DEFAULT_PAGE = 50;
const MAX_PAGE = 1000;
/**
 * A search whose words the index lists for at most this many messages sorts and checks those;
 * more, and reading history newest first finds a page of matches sooner.
 */
const MAX_SORTED_CANDIDATES = 10_000;
/** How far that reading goes before it falls back to sorting the candidates after all. */
const SEARCH_SCAN_ROWS = 10_000;
/** Sorted candidates are checked in growing chunks until the page is full. */
const FIRST_CHECK_CHUNK = 64;
/**
 * Reading history for a search takes rows in steps of this many, and reads the text (for most
 * rows, inflates the bytes) only of those the search index lists.
 */
const SCAN_STEP = 256;

export const SUMMARY_COLUMNS = `m.id, m.instrument_id, m.protocol, m.direction, m.received_at,
  m.control_id, m.sample_ids, m.patient_ids, m.test_codes, m.status, m.ack, m.result_count,
  m.error_count, m.qc,
  iif(m.text_is_raw AND m.text = '' AND m.raw_size IS NULL,
    coalesce(substr(CAST(substr(m.raw, 1, ${4 * (PREVIEW_CHARS + 1)}) AS TEXT), 1, ${PREVIEW_CHARS + 1}), ''),
    substr(iif(m.text_is_raw, message_text(m.text, 1, m.raw, m.raw_size), m.text), 1, ${PREVIEW_CHARS}))
    AS preview, m.text_is_raw AND m.text = '' AND m.raw_size IS NULL AS preview_is_raw,
  coalesce(m.raw_size, length(m.raw)) AS size`;

/**
 * Text read from E1381 frames (compact.ts FRAMES_TEXT) or from deflated bytes (raw_size) takes a
 * call into JavaScript per row; text that is the bytes themselves is read in SQL.
 * For a search the text may keep the final CR its bytes end with (text_is_raw): a CR is no word
 * character, and a search word never ends in one, so it decides no match.
 */
const SCAN_COLUMNS = `m.id, m.received_at,
  iif(m.text_is_raw, iif(m.text = '' AND m.raw_size IS NULL, coalesce(CAST(m.raw AS TEXT), ''),
    message_text(m.text, 1, m.raw, m.raw_size)), m.text) AS text, m.sample_ids, m.patient_ids,
  m.test_codes, m.control_id`;

const POSITION_COLUMNS = 'm.id, m.received_at';

export interface SummaryRow {
  id: number;
  instrument_id: string;
  protocol: Protocol;
  direction: Direction;
  received_at: number;
  control_id: string | null;
  sample_ids: string;
  patient_ids: string;
  test_codes: string;
  status: string;
  ack: string | null;
  result_count: number;
  error_count: number;
  qc: number;
  /** Up to PREVIEW_CHARS + 1 characters of the bytes when preview_is_raw (see toSummary). */
  preview: string;
  /** 1 when the preview is the bytes read as UTF-8 (not when it is read from E1381 frames). */
  preview_is_raw: number;
  size: number;
}

interface PositionRow {
  id: number;
  received_at: number;
}

interface ScanRow {
  id: number;
  received_at: number;
  text: string;
  sample_ids: string;
  patient_ids: string;
  test_codes: string;
  control_id: string | null;
}

/**
 * Which table's index drives a query, and so yields rows in (received_at, id) order: messages by
 * time (or by instrument, or the partial index of problem statuses, as SQLite sees fit), the
 * sample or patient ID lookups, or the search index's candidates, which alone need a sort.
 */
type Driver = 'time' | 'times' | 'instruments' | 'samples' | 'patients' | 'candidates';

/** The drivers whose lookups are filed after the commit, with a tail to read as well. */
const FILED_DRIVERS: ReadonlySet<Driver> = new Set(['times', 'instruments', 'samples', 'patients']);

/** Drivers that read all of history in time order (a lookup, or a partial index of messages). */
const byTime = (driver: Driver): boolean => driver === 'time' || driver === 'times';

interface QueryShape {
  driver: Driver;
  /** -1 for all rows. */
  limit: number;
  /** For the 'candidates' driver: the search whose index entries are the candidates. */
  search?: SearchPlan;
  columns?: 'summary' | 'scan' | 'position';
  /**
   * For the 'samples' and 'patients' drivers: the messages not filed in the ID lookups yet
   * (lookups.ts), read by rowid range and checked against their own IDs.
   */
  tail?: boolean;
}

interface BuiltQuery {
  sql: string;
  params: unknown[];
}

/** An outbox entry's state as readers see it (outbox.ts): pending for a destination on hold or gone is held. */
const OUTBOX_STATE = `CASE WHEN o.state = 'pending'
    AND coalesce((SELECT d.held FROM destinations d WHERE d.id = o.destination_id), 1) = 1
  THEN 'held' ELSE o.state END`;

export class MessageHistory {
  /** Queries vary with the filter; each distinct one is prepared once and kept. */
  private readonly statements = new Map<string, Database.Statement>();
  private readonly selectCandidates: Database.Statement<[string], number>;
  private readonly countCandidates: Database.Statement<[string, number], number>;
  private readonly candidatesBetween: Database.Statement<[string, number, number], number>;
  private readonly selectWatermark: Database.Statement<[], number>;

  constructor(private readonly db: Database.Database) {
    this.countCandidates = db
      .prepare<[string, number], number>(
        'SELECT count(*) FROM (SELECT 1 FROM message_search WHERE message_search MATCH ? LIMIT ?)',
      )
      .pluck();
    this.selectCandidates = db
      .prepare<[string], number>(
        'SELECT rowid FROM message_search WHERE message_search MATCH ? ORDER BY rowid',
      )
      .pluck();
    this.candidatesBetween = db
      .prepare<[string, number, number], number>(
        `SELECT rowid FROM message_search
         WHERE message_search MATCH ? AND rowid >= ? AND rowid <= ?`,
      )
      .pluck();
    this.selectWatermark = db
      .prepare<[], number>('SELECT indexed_through FROM search_progress WHERE id = 1')
      .pluck();
  }

  query(filter: MessageFilter): Page<MessageSummary> {
    const limit = pageLimit(filter.limit, DEFAULT_PAGE, MAX_PAGE);
    const order: SortOrder = filter.order === 'asc' ? 'asc' : 'desc';
    const after = decodeCursor(filter.cursor);
    const search = filter.search === undefined ? null : planSearch(filter.search);
    const rows = search
      ? this.searchRows(filter, order, after, limit, search)
      : this.driven<SummaryRow>(filter, order, after, {
          driver: driverFor(filter, false),
          limit: limit + 1,
        });
    return toPage(rows, limit, positionOf, toSummary);
  }

  /** The plans SQLite chose for the statements `query(filter)` may run. */
  explain(filter: MessageFilter): string[] {
    const order: SortOrder = filter.order === 'asc' ? 'asc' : 'desc';
    const after = decodeCursor(filter.cursor);
    const search = filter.search === undefined ? null : planSearch(filter.search);
    const driver = driverFor(filter, search !== null);
    const shapes: QueryShape[] = [];
    if (!search) shapes.push({ driver, limit: DEFAULT_PAGE + 1 });
    else if (!byTime(driver)) shapes.push({ driver, limit: -1, columns: 'position' });
    else {
      shapes.push({ driver, limit: SCAN_STEP, columns: 'position' });
      shapes.push({ driver: 'candidates', limit: -1, search, columns: 'position' });
    }
    shapes.push(
      ...shapes
        .filter((shape) => FILED_DRIVERS.has(shape.driver))
        .map((shape) => ({ ...shape, tail: true })),
    );
    return shapes.map((shape) => {
      const query = buildQuery(filter, order, after, shape);
      return this.db
        .prepare(`EXPLAIN QUERY PLAN ${query.sql}`)
        .all(...query.params)
        .map((row) => (row as { detail: string }).detail)
        .join('; ');
    });
  }

  /**
   * IDs of the messages the search indexes list for `search`, before the exact check: for tests
   * that the indexes forget purged messages, and for diagnosis.
   */
  indexCandidates(search: string): number[] {
    const match = planSearch(search)?.match;
    return match ? this.selectCandidates.all(match) : [];
  }

  /**
   * The index says how many messages may match. Few: they are sorted and checked. Many mean
   * frequent words, which reading history newest first finds fast; if that does not fill the page,
   * the candidates after what was read are sorted and checked after all. With a sample or patient
   * ID, its few messages are checked instead.
   */
  private searchRows(
    filter: MessageFilter,
    order: SortOrder,
    after: Position | null,
    limit: number,
    search: SearchPlan,
  ): SummaryRow[] {
    const driver = driverFor(filter, true);
    let matched: number[] = [];
    let position = after;
    const candidates = byTime(driver) ? this.candidateCount(search) : 0;
    if (candidates > MAX_SORTED_CANDIDATES) {
      // Without an answer from the index, all of history has to be read.
      const readLimit = Number.isFinite(candidates) ? SEARCH_SCAN_ROWS : -1;
      const read = this.readHistory(filter, order, after, limit, search, readLimit, driver);
      if (read.complete) return this.summaries(read.matched, order);
      [matched, position] = [read.matched, read.position];
    }
    const sorted = this.driven<PositionRow>(filter, order, position, {
      driver: byTime(driver) ? 'candidates' : driver,
      limit: -1,
      search,
      columns: 'position',
    });
    let chunk = FIRST_CHECK_CHUNK;
    for (let at = 0; at < sorted.length && matched.length <= limit; at += chunk, chunk *= 2) {
      const ids = sorted.slice(at, at + chunk).map((row) => row.id);
      const rows = new Map(this.scanRows(ids).map((row) => [row.id, row]));
      for (const id of ids) {
        const row = rows.get(id);
        if (row && matches(search, row)) matched.push(id);
        if (matched.length > limit) break;
      }
    }
    return this.summaries(matched, order);
  }

  /**
   * In history order, up to `readLimit` rows (-1: all) of the driving lookup or index, each
   * checked: when the index can answer, only those it lists (every match is among them) and those
   * it does not hold yet. With the time lookup, the unfiled tail's rows come in their place among
   * them (read first, as in `driven`).
   */
  private readHistory(
    filter: MessageFilter,
    order: SortOrder,
    after: Position | null,
    limit: number,
    search: SearchPlan,
    readLimit: number,
    driver: Driver,
  ): { matched: number[]; position: Position | null; complete: boolean } {
    if (search.match !== null) {
      try {
        return this.readHistoryIndexed(
          filter,
          order,
          after,
          limit,
          search,
          search.match,
          readLimit,
          driver,
        );
      } catch (error) {
        // A word SQLite splits where search.ts does not: the index cannot answer (candidateCount).
        if (!(error instanceof Error && error.message.startsWith('fts5:'))) throw error;
      }
    }
    const sign = order === 'asc' ? 1 : -1;
    const compare = (a: ScanRow, b: ScanRow) =>
      sign * (a.received_at - b.received_at || a.id - b.id);
    const tail = FILED_DRIVERS.has(driver)
      ? this.all<ScanRow>(
          buildQuery(filter, order, after, { driver, limit: -1, columns: 'scan', tail: true }),
        ).sort(compare)
      : [];
    const inTail = new Set(tail.map((row) => row.id));
    const scan = buildQuery(filter, order, after, { driver, limit: readLimit, columns: 'scan' });
    const matched: number[] = [];
    let position = after;
    let read = 0;
    let next = 0;
    /** Checks one row; true once the page is full. */
    const check = (row: ScanRow): boolean => {
      position = { time: row.received_at, id: row.id };
      if (!matches(search, row)) return false;
      matched.push(row.id);
      return matched.length > limit;
    };
    let full = false;
    for (const row of this.statement(scan.sql).iterate(...scan.params) as Iterable<ScanRow>) {
      read++;
      while (!full && next < tail.length && compare(tail[next]!, row) < 0) {
        full = check(tail[next++]!);
      }
      if (full || (!inTail.has(row.id) && check(row))) {
        full = true;
        break;
      }
    }
    const exhausted = readLimit < 0 || read < readLimit;
    while (exhausted && !full && next < tail.length) full = check(tail[next++]!);
    return { matched, position, complete: full || exhausted };
  }

  private readHistoryIndexed(
    filter: MessageFilter,
    order: SortOrder,
    after: Position | null,
    limit: number,
    search: SearchPlan,
    match: string,
    readLimit: number,
    driver: Driver,
  ): { matched: number[]; position: Position | null; complete: boolean } {
    const indexedThrough = this.selectWatermark.get() ?? 0;
    const matched: number[] = [];
    let position = after;
    let read = 0;
    for (;;) {
      const step = readLimit < 0 ? SCAN_STEP : Math.min(SCAN_STEP, readLimit - read);
      if (step <= 0) return { matched, position, complete: false };
      const rows = this.driven<PositionRow>(filter, order, position, {
        driver,
        limit: step,
        columns: 'position',
      });
      let low = Number.POSITIVE_INFINITY;
      let high = Number.NEGATIVE_INFINITY;
      for (const row of rows) {
        low = Math.min(low, row.id);
        high = Math.max(high, row.id);
      }
      const listed = new Set(rows.length > 0 ? this.candidatesBetween.all(match, low, high) : []);
      const toCheck = rows.filter((row) => listed.has(row.id) || row.id > indexedThrough);
      const checked = new Map(
        this.scanRows(toCheck.map((row) => row.id)).map((row) => [row.id, row]),
      );
      for (const row of rows) {
        read++;
        position = { time: row.received_at, id: row.id };
        const scanned = checked.get(row.id);
        if (!scanned || !matches(search, scanned)) continue;
        matched.push(row.id);
        if (matched.length > limit) return { matched, position, complete: true };
      }
      if (rows.length < step) return { matched, position, complete: true };
    }
  }

  /**
   * Up to MAX_SORTED_CANDIDATES + 1; infinite if the index cannot answer: no search word gives it
   * a term, or SQLite splits a word that search.ts keeps whole (a character whose Unicode category
   * changed since SQLite's tables were made).
   */
  private candidateCount(search: SearchPlan): number {
    if (search.match === null) return Number.POSITIVE_INFINITY;
    try {
      return this.countCandidates.get(search.match, MAX_SORTED_CANDIDATES + 1) ?? 0;
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('fts5:')) {
        return Number.POSITIVE_INFINITY;
      }
      throw error;
    }
  }

  private scanRows(ids: number[]): ScanRow[] {
    const sql = `SELECT ${SCAN_COLUMNS} FROM messages m WHERE m.id IN (SELECT value FROM json_each(?))`;
    return this.statement(sql).all(JSON.stringify(ids)) as ScanRow[];
  }

  private summaries(ids: number[], order: SortOrder): SummaryRow[] {
    if (ids.length === 0) return [];
    const sql = `SELECT ${SUMMARY_COLUMNS} FROM messages m
      WHERE m.id IN (SELECT value FROM json_each(?))
      ORDER BY m.received_at ${order}, m.id ${order}`;
    return this.statement(sql).all(JSON.stringify(ids)) as SummaryRow[];
  }

  /**
   * The rows of one query shape in history order. By sample or patient ID: those the lookups list,
   * and those of the tail not filed yet. The tail is read first: should the side work file some
   * of it in between, they are in both answers (and taken once), never in neither.
   */
  private driven<Row extends PositionRow>(
    filter: MessageFilter,
    order: SortOrder,
    after: Position | null,
    shape: QueryShape,
  ): Row[] {
    if (!FILED_DRIVERS.has(shape.driver)) {
      return this.all<Row>(buildQuery(filter, order, after, shape));
    }
    const tail = this.all<Row>(buildQuery(filter, order, after, { ...shape, tail: true }));
    const filed = this.all<Row>(buildQuery(filter, order, after, shape));
    if (tail.length === 0) return filed;
    const seen = new Set(filed.map((row) => row.id));
    const sign = order === 'asc' ? 1 : -1;
    const rows = [...filed, ...tail.filter((row) => !seen.has(row.id))].sort(
      (a, b) => sign * (a.received_at - b.received_at || a.id - b.id),
    );
    return shape.limit < 0 ? rows : rows.slice(0, shape.limit);
  }

  private all<Row>(query: BuiltQuery): Row[] {
    return this.statement(query.sql).all(...query.params) as Row[];
  }

  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

/**
 * A search with no sample or patient ID reads history by time (or the search index's
 * candidates), filtering by instrument as it goes. A page of one instrument reads its lookup,
 * unless a filter for problem statuses or QC has a smaller partial index on messages to read.
 */
function driverFor(filter: MessageFilter, search: boolean): Driver {
  if (filter.sampleId !== undefined) return 'samples';
  if (filter.patientId !== undefined) return 'patients';
  const partial = (filter.status !== undefined && filter.status !== 'stored') || filter.qc === true;
  if (partial) return 'time';
  if (filter.instrumentId !== undefined && !search) return 'instruments';
  return 'times';
}

/**
 * One history query. The driving index yields rows in (received_at, id) order, so ORDER BY costs
 * nothing and LIMIT stops the scan early; CROSS JOIN keeps SQLite from choosing another order.
 */
function buildQuery(
  filter: MessageFilter,
  order: SortOrder,
  after: Position | null,
  shape: QueryShape,
): BuiltQuery {
  const where: string[] = [];
  const params: unknown[] = [];
  let from = 'messages m';
  let [time, id] = ['m.received_at', 'm.id'];
  if ((shape.driver === 'instruments' || shape.driver === 'times') && shape.tail) {
    // Filtered by instrument below, like every other driver.
    from = 'messages m NOT INDEXED';
    where.push(`m.id > ${FILED_THROUGH}`);
  } else if (shape.driver === 'times') {
    from = 'message_times k CROSS JOIN messages m ON m.id = k.message_id';
    [time, id] = ['k.received_at', 'k.message_id'];
  } else if (shape.driver === 'instruments') {
    from = 'message_instruments k CROSS JOIN messages m ON m.id = k.message_id';
    [time, id] = ['k.received_at', 'k.message_id'];
    where.push('k.instrument_id = ?');
    params.push(filter.instrumentId);
  } else if ((shape.driver === 'samples' || shape.driver === 'patients') && shape.tail) {
    // The rowid range first (NOT INDEXED keeps SQLite from reading history by time instead).
    const [column, value] =
      shape.driver === 'samples'
        ? ['sample_ids', filter.sampleId]
        : ['patient_ids', filter.patientId];
    from = 'messages m NOT INDEXED';
    where.push(`m.id > ${FILED_THROUGH}`);
    where.push(`EXISTS (SELECT 1 FROM json_each(m.${column}) j WHERE j.value = ? COLLATE NOCASE)`);
    params.push(value);
  } else if (shape.driver === 'samples' || shape.driver === 'patients') {
    const [table, column, value] =
      shape.driver === 'samples'
        ? ['message_samples', 'sample_id', filter.sampleId]
        : ['message_patients', 'patient_id', filter.patientId];
    from = `${table} k CROSS JOIN messages m ON m.id = k.message_id`;
    [time, id] = ['k.received_at', 'k.message_id'];
    where.push(`k.${column} = ?`);
    params.push(value);
  } else if (shape.driver === 'candidates' && shape.search) {
    from = `(SELECT rowid AS id FROM message_search WHERE message_search MATCH ?) AS hit
      CROSS JOIN messages m ON m.id = hit.id`;
    params.push(shape.search?.match);
  }
  if (shape.driver === 'samples' && filter.patientId !== undefined && shape.tail) {
    where.push(
      `EXISTS (SELECT 1 FROM json_each(m.patient_ids) j WHERE j.value = ? COLLATE NOCASE)`,
    );
    params.push(filter.patientId);
  } else if (shape.driver === 'samples' && filter.patientId !== undefined) {
    where.push(`EXISTS (SELECT 1 FROM message_patients p WHERE p.patient_id = ?
      AND p.received_at = m.received_at AND p.message_id = m.id)`);
    params.push(filter.patientId);
  }
  const equal = (column: string, value: unknown): void => {
    if (value === undefined) return;
    where.push(`${column} = ?`);
    params.push(value);
  };
  equal('m.instrument_id', filter.instrumentId);
  equal('m.protocol', filter.protocol);
  equal('m.direction', filter.direction);
  equal('m.status', filter.status);
  // Spelled out so that SQLite may use the partial index of messages with problems.
  if (filter.status !== undefined && filter.status !== 'stored') where.push(`m.status <> 'stored'`);
  if (filter.qc !== undefined) where.push(filter.qc ? 'm.qc = 1' : 'm.qc = 0');
  if (filter.forwarding !== undefined) {
    where.push(`EXISTS (SELECT 1 FROM outbox o WHERE o.message_id = m.id AND ${OUTBOX_STATE} = ?)`);
    params.push(filter.forwarding);
  }
  if (filter.from !== undefined) {
    where.push(`${time} >= ?`);
    params.push(filter.from);
  }
  if (filter.to !== undefined) {
    where.push(`${time} < ?`);
    params.push(filter.to);
  }
  if (after) {
    where.push(afterClause(time, id, order));
    params.push(after.time, after.id);
  }
  const columns =
    shape.columns === 'scan'
      ? SCAN_COLUMNS
      : shape.columns === 'position'
        ? POSITION_COLUMNS
        : SUMMARY_COLUMNS;
  // The tail is read whole in rowid order, and sorted with the rest by the caller.
  const orderBy = shape.tail
    ? 'ORDER BY m.id'
    : `ORDER BY ${time} ${order}, ${id} ${order} LIMIT ${shape.limit}`;
  const sql = `SELECT ${columns} FROM ${from}
    ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
    ${orderBy}`;
  return { sql, params };
}

/** The quick test first: most rows fail it without their IDs being parsed. */
function matches(search: SearchPlan, row: ScanRow): boolean {
  const idsJson = `${row.sample_ids}${row.patient_ids}${row.test_codes}${row.control_id ?? ''}`;
  const text = row.text;
  if (!mayMatch(search, text, idsJson)) return false;
  const partIds = [
    ...(JSON.parse(row.sample_ids) as string[]),
    ...(JSON.parse(row.patient_ids) as string[]),
  ];
  const ids = [...partIds, ...(JSON.parse(row.test_codes) as string[])];
  if (row.control_id !== null) ids.push(row.control_id);
  return matchesSearch(search, { text, ids, partIds });
}

function positionOf(row: SummaryRow): Position {
  return { time: row.received_at, id: row.id };
}

export function toSummary(row: SummaryRow): MessageSummary {
  return {
    id: row.id,
    instrumentId: row.instrument_id,
    protocol: row.protocol,
    direction: row.direction,
    receivedAt: row.received_at,
    controlId: row.control_id,
    sampleIds: JSON.parse(row.sample_ids) as string[],
    patientIds: JSON.parse(row.patient_ids) as string[],
    testCodes: JSON.parse(row.test_codes) as string[],
    status: row.status,
    ack: row.ack,
    resultCount: row.result_count,
    errorCount: row.error_count,
    qc: row.qc === 1,
    preview: row.preview_is_raw === 1 ? previewOfRaw(row.preview) : row.preview,
    size: row.size,
  };
}

/**
 * The preview of a message whose text is its bytes less one final CR, from the first
 * PREVIEW_CHARS + 1 characters of those bytes: a CR at the end of all of them is not the text's.
 * (The SQL has coalesce because SQLite's substr of an empty blob is NULL.)
 */
function previewOfRaw(start: string): string {
  // eslint-disable-next-line no-control-regex
  const chars = /^[\u0000-\u007f]*$/.test(start) ? start : [...start];
  if (chars.length > PREVIEW_CHARS) {
    return typeof chars === 'string'
      ? chars.slice(0, PREVIEW_CHARS)
      : chars.slice(0, PREVIEW_CHARS).join('');
  }
  return start.endsWith('\r') ? start.slice(0, -1) : start;
}
