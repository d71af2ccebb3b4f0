/**
 * Exports of the history: CSV of results, JSON of messages, or the raw bytes. Produced as a
 * sequence of chunks, one message at a time, read page by page from the store, so an export of
 * any size holds one page in memory.
 */
import type { CommandRequest, CommandResponse, MessageQuery } from '../../src-shared/contract';
import { csvCell } from '../../src-shared/csv';
import { RESULT_FIELDS } from '../../src-shared/result-fields';
import type { HistoryReader } from '../store/store';
import type { MessageDetail } from '../store/types';
import { toMessageFilter } from './history';

export type ExportFormat = CommandRequest<'exportMessages'>['format'];
export type ExportQuery = Omit<MessageQuery, 'cursor' | 'limit'>;

export interface ExportPlan {
  fileName: string;
  mimeType: string;
  /** Text for csv and json; bytes for raw. */
  chunks(): Generator<string | Buffer>;
  /** Messages written so far (final once `chunks` is exhausted). */
  readonly count: number;
}

/** Where an export went: the contract's answer to `exportMessages`. */
export type ExportDelivery = CommandResponse<'exportMessages'>;

/**
 * Takes a planned export where the shell running the gateway puts files: the desktop asks where
 * to save it and writes it there, the browser mode offers it as a one-time download.
 */
export type DeliverExport = (plan: ExportPlan) => Promise<ExportDelivery>;

export { csvCell };

const PAGE = 500;

export const CSV_COLUMNS = ['messageId', 'instrumentId', 'receivedAt', ...RESULT_FIELDS];

export function planExport(
  store: Pick<HistoryReader, 'queryMessages' | 'getMessage'>,
  query: ExportQuery,
  format: ExportFormat,
  max: number,
  now: number,
): ExportPlan {
  const stamp = new Date(now).toISOString().slice(0, 19).replace(/[:T]/g, '-');
  let count = 0;
  function* messages(): Generator<MessageDetail> {
    let cursor: string | null = null;
    do {
      const page = store.queryMessages({
        ...toMessageFilter(query),
        limit: PAGE,
        ...(cursor ? { cursor } : {}),
      });
      for (const summary of page.items) {
        if (count >= max) return;
        const message = store.getMessage(summary.id);
        if (!message) continue;
        count++;
        yield message;
      }
      cursor = page.nextCursor;
    } while (cursor);
  }
  const formats = {
    csv: {
      fileName: `results-${stamp}.csv`,
      mimeType: 'text/csv',
      *chunks() {
        yield `${CSV_COLUMNS.join(',')}\r\n`;
        for (const m of messages()) {
          const receivedAt = new Date(m.receivedAt).toISOString();
          let rows = '';
          for (const r of m.results) {
            const cells = [m.id, m.instrumentId, receivedAt, ...RESULT_FIELDS.map((f) => r[f])];
            rows += `${cells.map(csvCell).join(',')}\r\n`;
          }
          if (rows) yield rows;
        }
      },
    },
    json: {
      fileName: `messages-${stamp}.json`,
      mimeType: 'application/json',
      *chunks() {
        let first = true;
        yield '[';
        for (const m of messages()) {
          const entry = {
            id: m.id,
            instrumentId: m.instrumentId,
            protocol: m.protocol,
            direction: m.direction,
            receivedAt: new Date(m.receivedAt).toISOString(),
            controlId: m.controlId,
            status: m.status,
            ack: m.ack,
            text: m.text,
            results: m.results,
            errors: m.errors,
          };
          yield `${first ? '\n' : ',\n'}${indent(JSON.stringify(entry, null, 2))}`;
          first = false;
        }
        yield first ? ']' : '\n]';
      },
    },
    raw: {
      fileName: `messages-${stamp}.bin`,
      mimeType: 'application/octet-stream',
      *chunks() {
        for (const m of messages()) yield Buffer.from(m.raw);
      },
    },
  } satisfies Record<ExportFormat, Omit<ExportPlan, 'count'>>;
  const chosen = formats[format];
  return {
    fileName: chosen.fileName,
    mimeType: chosen.mimeType,
    chunks: () => chosen.chunks(),
    get count() {
      return count;
    },
  };
}

function indent(json: string): string {
  return `  ${json.replace(/\n/g, '\n  ')}`;
}
