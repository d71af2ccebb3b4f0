/**
 * Keyset paging. A cursor is the (time, id) of the last row of a page; the next page starts
 * strictly after it, so rows written meanwhile never shift a page and nothing repeats or goes
 * missing, and the cost of a page does not grow with how deep it is.
 */
import { StoreError } from './errors';
import type { Page } from './types';

export interface Position {
  time: number;
  id: number;
}

export function encodeCursor(position: Position): string {
  return `${position.time}.${position.id}`;
}

export function decodeCursor(cursor: string | null | undefined): Position | null {
  if (cursor === undefined || cursor === null || cursor === '') return null;
  const match = /^(\d{1,16})\.(\d{1,16})$/.exec(cursor);
  if (!match)
    throw new StoreError('STORE_BAD_CURSOR', 'the page cursor is not one this store gave out');
  return { time: Number(match[1]), id: Number(match[2]) };
}

export function pageLimit(limit: number | undefined, fallback: number, max: number): number {
  if (limit === undefined) return fallback;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new StoreError('STORE_INVALID', `the page size must be a whole number from 1 to ${max}`);
  }
  return Math.min(limit, max);
}

/** `rows` holds up to limit + 1 rows; the extra one only says that another page exists. */
export function toPage<Row, Item>(
  rows: readonly Row[],
  limit: number,
  position: (row: Row) => Position,
  item: (row: Row) => Item,
): Page<Item> {
  const shown = rows.slice(0, limit);
  const last = shown[shown.length - 1];
  return {
    items: shown.map(item),
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(position(last)) : null,
  };
}

/** SQL for "strictly after the cursor" in the given order, over a (time, id) pair of columns. */
export function afterClause(timeColumn: string, idColumn: string, order: 'asc' | 'desc'): string {
  return `(${timeColumn}, ${idColumn}) ${order === 'desc' ? '<' : '>'} (?, ?)`;
}
