/**
 * Exports of the history: CSV of results, JSON of messages, or the raw bytes. Produced as a
 * sequence of chunks, one message at a time, read page by page from the store, so an export of
 * any size holds one page in memory.
 */
import type { CommandRequest, CommandResponse, MessageQuery } from '../../src-shared/contract';
import { csvCell } from '../../src-shared/csv';
import { RESULT_FIELDS } from '../../src-shared/result-fields';
import { frameMllp } from '../protocols/hl7/mllp';
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
      fileName: `messages-${stamp}${captureExtension(query)}`,
      mimeType: 'application/octet-stream',
      *chunks() {
        for (const m of messages()) yield wireCapture(m);
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

/** `.astm` or `.hl7` when the export holds one protocol, so `decode` is told which to read. */
function captureExtension(query: ExportQuery): string {
  return query.protocol ? `.${query.protocol}` : '.bin';
}

const ENQ = Buffer.of(0x05);
const EOT = Buffer.of(0x04);
const CRLF = Buffer.of(0x0d, 0x0a);

/**
 * One message as a sender puts it on the wire, so a capture replays and `decode` reads it back:
 * HL7 in its MLLP block, ASTM as ENQ, each frame with its CR LF, EOT. Messages follow each other
 * with their framing as the only separator.
 */
export function wireCapture(message: Pick<MessageDetail, 'protocol' | 'raw'>): Buffer {
  const raw = Buffer.from(message.raw);
  if (message.protocol === 'hl7') return raw[0] === 0x0b ? raw : frameMllp(raw);
  const parts: Buffer[] = [ENQ];
  let start = 0;
  for (let i = 1; i <= raw.length; i++) {
    if (i === raw.length || raw[i] === 0x02) {
      parts.push(raw.subarray(start, i), CRLF);
      start = i;
    }
  }
  parts.push(EOT);
  return Buffer.concat(parts);
}

function indent(json: string): string {
  return `  ${json.replace(/\n/g, '\n  ')}`;
}
