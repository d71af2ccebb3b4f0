/**
 * Rebuilds E1394 messages from the text of accepted E1381 frames. Frames and records do not line
 * up: a record may span ETB frames, a frame may hold several records, and one frame may end one
 * message (its L record) and begin the next. A message ends where an L record's CR ends.
 */
import type { ProtocolError } from '../errors';
import { CR } from './control';
import type { ReceivedFrame } from './frame';

/** How an inbound message ended: its L record, or something that cut it short. */
export type AstmTermination = 'L' | 'EOT' | 'ENQ' | 'timeout' | 'closed';

export interface AstmInboundMessage {
  /** The record bytes, the frames' text concatenated in order; records end with CR. */
  text: Buffer;
  /**
   * The accepted frames as received (STX through the checksum), concatenated. A frame that ends
   * one message and begins the next belongs to both.
   */
  raw: Buffer;
  /** Where each accepted frame lies in the stream: [offset of its STX, length], as in `raw`. */
  ranges: [number, number][];
  frames: number;
  /** Clock milliseconds of the first and the last accepted frame. */
  startedAt: number;
  completedAt: number;
  terminated: AstmTermination;
  /** Problems seen while receiving it (rejected frames, repeats, the reason it was cut short). */
  errors: ProtocolError[];
}

interface Partial {
  text: Buffer[];
  /** Total length of `text`. */
  bytes: number;
  raw: Buffer[];
  offsets: number[];
  frames: number;
  startedAt: number;
  errors: ProtocolError[];
}

/** Enough to undo one append: the partial message it started from and how long it was. */
interface Checkpoint {
  partial: Partial;
  textParts: number;
  bytes: number;
  rawParts: number;
  frames: number;
  startedAt: number;
  errors: number;
  recordFirst: number;
}

const UPPER_L = 0x4c;
const LOWER_L = 0x6c;
/** recordFirst when no byte of the current record has arrived yet. */
const AT_RECORD_START = -1;

export class MessageAssembler {
  private partial: Partial = emptyPartial();
  /** First byte of the record in progress, or AT_RECORD_START. */
  private recordFirst = AT_RECORD_START;
  private undo: Checkpoint | null = null;

  /** Forgets everything held, for a new ENQ session. Take what matters with `flush` first. */
  reset(): void {
    this.partial = emptyPartial();
    this.recordFirst = AT_RECORD_START;
    this.undo = null;
  }

  /** Records a problem against the message being received. */
  noteError(error: ProtocolError): void {
    this.partial.errors.push(error);
  }

  /**
   * Undoes the last append that completed messages, as if that frame had never arrived; valid
   * until the next append, flush or reset.
   */
  undoCompletingAppend(): void {
    const at = this.undo;
    if (!at) return;
    this.undo = null;
    const p = at.partial;
    p.text.length = at.textParts;
    p.bytes = at.bytes;
    p.raw.length = at.rawParts;
    p.offsets.length = at.rawParts;
    p.frames = at.frames;
    p.startedAt = at.startedAt;
    p.errors.length = at.errors;
    this.partial = p;
    this.recordFirst = at.recordFirst;
  }

  /**
   * Appends an accepted frame's text. Returns the messages it completed (usually one), or null
   * when it completed none; text after the last L record starts the next message.
   */
  append(frame: ReceivedFrame, now: number): AstmInboundMessage[] | null {
    const text = frame.text;
    const before = this.partial;
    const recordFirst = this.recordFirst;
    const textParts = before.text.length;
    const bytes = before.bytes;
    const rawParts = before.raw.length;
    const frames = before.frames;
    const startedAt = before.startedAt;
    let messages: AstmInboundMessage[] | null = null;
    let start = 0; // where the current message's share of this frame begins
    let pos = 0;
    let first = recordFirst;
    while (pos < text.length) {
      if (first === AT_RECORD_START) first = text[pos]!;
      const cr = text.indexOf(CR, pos);
      if (cr < 0) break;
      pos = cr + 1;
      if (first === UPPER_L || first === LOWER_L) {
        this.take(
          pos === text.length && start === 0 ? text : text.subarray(start, pos),
          frame,
          now,
        );
        (messages ??= []).push(this.complete('L', now));
        start = pos;
      }
      first = AT_RECORD_START;
    }
    this.recordFirst = first;
    if (messages === null) {
      this.take(text, frame, now);
      this.undo = null;
      return null;
    }
    if (start < text.length) this.take(text.subarray(start), frame, now);
    this.undo = {
      partial: before,
      textParts,
      bytes,
      rawParts,
      frames,
      startedAt,
      errors: before.errors.length, // an accepted frame adds no errors
      recordFirst,
    };
    return messages;
  }

  /**
   * Ends the message in progress early. Returns it as incomplete, with `reason` added to its
   * errors, or null when it holds no record bytes (nothing, or only empty records).
   */
  flush(
    terminated: AstmTermination,
    reason: ProtocolError,
    now: number,
  ): AstmInboundMessage | null {
    this.undo = null;
    const p = this.partial;
    const hasRecords = p.frames > 0 && p.text.some((part) => hasNonCr(part));
    if (!hasRecords) {
      this.reset();
      return null;
    }
    p.errors.push(reason);
    const message = this.complete(terminated, now);
    this.recordFirst = AT_RECORD_START;
    return message;
  }

  /** Frames held for the message in progress. */
  get frames(): number {
    return this.partial.frames;
  }

  /** Text bytes held for the message in progress. */
  get bytes(): number {
    return this.partial.bytes;
  }

  private take(text: Buffer, frame: ReceivedFrame, now: number): void {
    const p = this.partial;
    if (p.frames === 0) p.startedAt = now;
    p.frames++;
    if (text.length > 0) {
      p.text.push(compact(text));
      p.bytes += text.length;
    }
    p.raw.push(compact(frame.raw));
    p.offsets.push(frame.offset);
  }

  /** Turns the partial message into a message and starts an empty one. */
  private complete(terminated: AstmTermination, now: number): AstmInboundMessage {
    const p = this.partial;
    this.partial = emptyPartial();
    return {
      text: Buffer.concat(p.text),
      raw: Buffer.concat(p.raw),
      ranges: p.offsets.map((offset, i): [number, number] => [offset, p.raw[i]!.length]),
      frames: p.frames,
      startedAt: p.startedAt,
      completedAt: now,
      terminated,
      errors: p.errors.slice(),
    };
  }
}

function emptyPartial(): Partial {
  return { text: [], bytes: 0, raw: [], offsets: [], frames: 0, startedAt: 0, errors: [] };
}

function hasNonCr(part: Buffer): boolean {
  for (let i = 0; i < part.length; i++) if (part[i] !== CR) return true;
  return false;
}

/**
 * A frame's bytes are views into the socket read they arrived in. Kept across frames, a small
 * view would pin a whole read (up to 64 KiB) in memory, so views much smaller than their backing
 * memory are copied.
 */
function compact(view: Buffer): Buffer {
  return view.byteLength * 4 < view.buffer.byteLength ? Buffer.from(view) : view;
}
