/**
 * Exports of the history: CSV of results, JSON of messages, or the raw bytes. Produced as a
 * sequence of chunks, one message at a time, read page by page from the store, so an export of
 * any size holds one page in memory.
 */
import type { CommandRequest, CommandResponse, MessageQuery } from '../../src-shared/contract';
import { csvCell } from '../../src-shared/csv';
import { isoWithOffset, localStampWithOffset } from '../../src-shared/time-zone';
import { frameMllp } from '../protocols/hl7/mllp';
import type { HistoryReader } from '../store/store';
import type { StoredResult } from '../../src-shared/results';
import type { MessageDetail } from '../store/types';
import { resultViews, toMessageFilter } from './history';
import { parseAstmForView, parseHl7ForView } from './parsed';

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

/**
 * One row per result. Times are ISO-8601 with the gateway's UTC offset; `observedAt` is the
 * analyzer's clock, stated in the gateway's zone (analyzers keep the lab's local time).
 */
export const CSV_COLUMNS = [
  'messageId',
  'instrumentId',
  'instrumentName',
  'receivedAt',
  'sampleId',
  'patientId',
  'testCode',
  'value',
  'units',
  'referenceRange',
  'flags',
  'status',
  'observedAt',
  'qc',
] as const;

/** Tells Excel the file is UTF-8, so `µmol/L` is not shown as `Âµmol/L`. */
export const CSV_BOM = '\uFEFF';

export interface ExportOptions {
  /** The instrument's name as set up now; the id when it has none or was removed. */
  instrumentName?: (id: string) => string | null;
  /** The zone times are written in; the gateway's own by default. */
  timeZone?: string;
}

export function planExport(
  store: Pick<HistoryReader, 'queryMessages' | 'getMessage'>,
  query: ExportQuery,
  format: ExportFormat,
  max: number,
  now: number,
  options: ExportOptions = {},
): ExportPlan {
  const nameOf = (id: string) => options.instrumentName?.(id) ?? id;
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
        yield `${CSV_BOM}${CSV_COLUMNS.join(',')}\r\n`;
        for (const m of messages()) {
          const receivedAt = isoWithOffset(m.receivedAt, options.timeZone);
          const views = withRanges(m);
          let rows = '';
          views.forEach((r) => {
            const cells: Record<(typeof CSV_COLUMNS)[number], unknown> = {
              messageId: m.id,
              instrumentId: m.instrumentId,
              instrumentName: nameOf(m.instrumentId),
              receivedAt,
              sampleId: r.sampleId,
              patientId: r.patientId,
              testCode: r.testCode,
              value: r.value,
              units: r.units,
              referenceRange: r.referenceRange ?? null,
              flags: r.flags,
              status: r.status,
              observedAt: localStampWithOffset(r.observedAt, options.timeZone),
              qc: r.qc ? 'QC' : '',
            };
            rows += `${CSV_COLUMNS.map((c) => csvCell(cells[c] as string | number | null)).join(',')}\r\n`;
          });
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
  // Bare records (no E1381 framing on the line) are replayed as they came.
  if (message.protocol !== 'astm' || raw[0] !== 0x02) return raw;
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

/** The results with the reference range sent beside each; none when the text cannot be read. */
function withRanges(message: MessageDetail): (StoredResult & { referenceRange?: string | null })[] {
  try {
    const parsed =
      message.protocol === 'hl7' ? parseHl7ForView(message.text) : parseAstmForView(message.text);
    return resultViews(message, null, parsed);
  } catch {
    return message.results;
  }
}

function indent(json: string): string {
  return `  ${json.replace(/\n/g, '\n  ')}`;
}
