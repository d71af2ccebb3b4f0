/**
 * Bare E1394 records without E1381 framing (`astm.framing: "raw"`), as many serial analyzers and
 * some TCP ones send them: no ENQ, no frames, no checksums, nothing sent back. Records end with
 * CR (an LF after it is ignored, a bare LF is taken as CR); a message ends with its L record, at
 * the next H record, or, for devices that send no L at all, after an idle gap with no bytes.
 *
 * Pure: bytes in through `receive`, messages out through `onEvent`; the idle gap runs on the
 * injected clock.
 */
import { Timer, type Clock } from '../clock';
import { protocolError, type ProtocolError } from '../errors';
import { CR, ENQ, LF } from './control';
import type { AstmInboundMessage } from './session-assembly';

/** How a bare message ended. */
export type RawTermination = 'L' | 'H' | 'idle' | 'closed' | 'size';

export interface RawInboundMessage extends Omit<
  AstmInboundMessage,
  'terminated' | 'frames' | 'ranges'
> {
  terminated: RawTermination;
  /** Records it holds. */
  records: number;
}

export type RawRecordEvent =
  | { type: 'message'; message: RawInboundMessage }
  /** Something about the line worth a log line (reported once per reader). */
  | { type: 'notice'; error: ProtocolError };

export interface RawRecordReaderOptions {
  clock: Clock;
  /** End a message without L after this long without a byte; 0 waits for L, H or close. */
  idleGapMs: number;
  /** Longest message text held; a message growing past it is stored as it is and a new one begins. */
  maxMessageText: number;
  onEvent: (event: RawRecordEvent) => void;
}

/** Codes of the notes on a message that ended without L: how it ended, not what is wrong in it. */
export const RAW_ENDING_CODES: ReadonlySet<string> = new Set(['ASTM_ENDED_WITHOUT_L']);

interface Building {
  text: Buffer[];
  raw: Buffer[];
  bytes: number;
  records: number;
  startedAt: number;
}

const UPPER_H = 0x48;
const LOWER_H = 0x68;
const UPPER_L = 0x4c;
const LOWER_L = 0x6c;
const TAB = 0x09;

export class RawRecordReader {
  private message: Building | null = null;
  /** Bytes of the record in progress (no CR yet), as received. */
  private line: Buffer[] = [];
  private lineBytes = 0;
  /** The last byte was a CR, so an LF right after it is part of that record's end. */
  private afterCr = false;
  private closed = false;
  private enqNoticed = false;
  private readonly idleTimer: Timer;

  constructor(private readonly options: RawRecordReaderOptions) {
    this.idleTimer = new Timer(options.clock);
  }

  /** Bytes held for the message in progress (records and the unfinished record). */
  get buffered(): number {
    return (this.message?.bytes ?? 0) + this.lineBytes;
  }

  /** True while part of a message has arrived. */
  get busy(): boolean {
    return this.buffered > 0;
  }

  receive(chunk: Buffer): void {
    if (this.closed || chunk.length === 0) return;
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (byte === LF && this.afterCr && i === start) {
        // The LF of a CR LF pair whose CR ended the previous read or record.
        start = i + 1;
        this.afterCr = false;
        continue;
      }
      this.afterCr = false;
      if (byte === ENQ) this.noticeEnq();
      if (byte !== CR && byte !== LF) continue;
      this.addToLine(chunk.subarray(start, i));
      this.endLine();
      start = i + 1;
      this.afterCr = byte === CR;
    }
    if (start < chunk.length) this.addToLine(chunk.subarray(start));
    this.guardSize();
    this.armIdle();
  }

  /** The connection ended: what was held is a message of its own. Nothing happens afterwards. */
  close(): void {
    if (this.closed) return;
    this.flush('closed');
    this.closed = true;
    this.idleTimer.disarm();
  }

  private addToLine(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.line.push(Buffer.from(bytes));
    this.lineBytes += bytes.length;
  }

  /** A record terminator arrived: the line is a record unless it is blank. */
  private endLine(): void {
    const line = this.takeLine();
    if (line === null) return;
    const first = firstPrintable(line);
    if (first === null) return; // blank or control bytes only
    const type = line[first]!;
    if ((type === UPPER_H || type === LOWER_H) && this.message !== null) this.complete('H');
    this.appendRecord(line);
    if (type === UPPER_L || type === LOWER_L) this.complete('L');
  }

  private takeLine(): Buffer | null {
    if (this.lineBytes === 0) return null;
    const line = this.line.length === 1 ? this.line[0]! : Buffer.concat(this.line);
    this.line = [];
    this.lineBytes = 0;
    return line;
  }

  private appendRecord(line: Buffer): void {
    const message = (this.message ??= {
      text: [],
      raw: [],
      bytes: 0,
      records: 0,
      startedAt: this.options.clock.now(),
    });
    const text = recordText(line);
    message.text.push(text, CR_BYTE);
    message.raw.push(line, CR_BYTE);
    message.bytes += text.length + 1;
    message.records++;
  }

  /** A message (with the record in progress) past the size limit is ended now, as it is. */
  private guardSize(): void {
    if (this.buffered <= this.options.maxMessageText) return;
    this.flush('size');
  }

  private armIdle(): void {
    const gap = this.options.idleGapMs;
    if (gap <= 0 || this.buffered === 0) {
      this.idleTimer.disarm();
      return;
    }
    this.idleTimer.arm(gap, () => this.flush('idle'));
  }

  /** Ends the message in progress with the unfinished record as its last one. */
  private flush(terminated: RawTermination): void {
    const line = this.takeLine();
    if (line !== null && firstPrintable(line) !== null) this.appendRecord(line);
    this.afterCr = false;
    if (this.message !== null) this.complete(terminated);
  }

  private complete(terminated: RawTermination): void {
    const building = this.message;
    if (building === null) return;
    this.message = null;
    const errors: ProtocolError[] = [];
    const ending = endingNote(terminated, this.options);
    if (ending) errors.push(ending);
    const message: RawInboundMessage = {
      text: Buffer.concat(building.text),
      raw: Buffer.concat(building.raw),
      records: building.records,
      startedAt: building.startedAt,
      completedAt: this.options.clock.now(),
      terminated,
      errors,
    };
    if (this.buffered === 0) this.idleTimer.disarm();
    this.options.onEvent({ type: 'message', message });
  }

  private noticeEnq(): void {
    if (this.enqNoticed) return;
    this.enqNoticed = true;
    this.options.onEvent({
      type: 'notice',
      error: protocolError(
        'ASTM_FRAMING_MISMATCH',
        'received ENQ: the analyzer is using E1381 framing (ENQ, frames, EOT) and waits for an answer that a link set to bare records never sends; set the instrument\'s ASTM framing to "E1381"',
      ),
    });
  }
}

const CR_BYTE = Buffer.of(CR);

/** Index of the first byte that is not a control byte or a space, or null. */
function firstPrintable(line: Buffer): number | null {
  for (let i = 0; i < line.length; i++) if (line[i]! > 0x20) return i;
  return null;
}

/**
 * The record's text: control bytes other than tab (stray STX/ETX, NUL padding, XON/XOFF) are
 * taken out, so they cannot end up inside a field; the raw bytes keep them.
 */
function recordText(line: Buffer): Buffer {
  let clean = true;
  for (let i = 0; i < line.length; i++) {
    const b = line[i]!;
    if (b < 0x20 && b !== TAB) {
      clean = false;
      break;
    }
  }
  const start = firstPrintable(line) ?? 0;
  if (clean) return start === 0 ? line : line.subarray(start);
  const out: number[] = [];
  for (let i = start; i < line.length; i++) {
    const b = line[i]!;
    if (b >= 0x20 || b === TAB) out.push(b);
  }
  return Buffer.from(out);
}

function endingNote(
  terminated: RawTermination,
  options: RawRecordReaderOptions,
): ProtocolError | null {
  switch (terminated) {
    case 'L':
      return null;
    case 'H':
      return protocolError(
        'ASTM_ENDED_WITHOUT_L',
        'the message had no L record; it was ended where the next H record began',
      );
    case 'idle':
      return protocolError(
        'ASTM_ENDED_WITHOUT_L',
        `the message had no L record; it was ended after ${seconds(options.idleGapMs)} without data (astm.idleGapMs)`,
      );
    case 'closed':
      return protocolError(
        'ASTM_ENDED_WITHOUT_L',
        'the message had no L record; it was ended when the connection closed',
      );
    case 'size':
      return protocolError(
        'ASTM_MESSAGE_TOO_LARGE',
        `the message grew past ${options.maxMessageText} bytes without an L record; what arrived so far is stored as it is and the records after it start a new message`,
      );
  }
}

function seconds(ms: number): string {
  return ms < 1_000 ? `${ms} ms` : `${(ms / 1_000).toFixed(1).replace(/\.0$/, '')} s`;
}
