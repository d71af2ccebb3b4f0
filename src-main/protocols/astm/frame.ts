/**
 * E1381 frames: `STX FN text ETB|ETX C1 C2 CR LF`. This module only frames; it knows nothing of
 * records or of the ENQ/ACK dialogue (see session.ts), so the decoder and the live session share it.
 */
import { ACK, CR, ENQ, EOT, ETB, ETX, NAK, STX, isRestricted } from './control';

/** The older rule most instruments follow: 240 text bytes per frame. */
export const DEFAULT_SEND_FRAME_TEXT = 240;
/** E1381-02 allows 64,000 bytes per frame. */
export const DEFAULT_MAX_FRAME_TEXT = 64_000;

/** Two uppercase hex digits: sum of FN, text and ETB/ETX, modulo 256. */
export function checksum(frameNumber: number, text: Uint8Array, final: boolean): string {
  let sum = 0x30 + (frameNumber % 8) + (final ? ETX : ETB);
  for (const byte of text) sum += byte;
  return hex2(sum & 0xff);
}

/** "00" to "FF", built once: every received frame needs one. */
const HEX2 = Array.from({ length: 256 }, (_, value) =>
  value.toString(16).toUpperCase().padStart(2, '0'),
);

function hex2(value: number): string {
  return HEX2[value]!;
}

/** One complete frame, `STX FN text ETB|ETX C1 C2 CR LF`. */
export function encodeFrame(frameNumber: number, text: Uint8Array, final: boolean): Buffer {
  const fn = frameNumber % 8;
  const out = Buffer.allocUnsafe(text.length + 7);
  out[0] = STX;
  out[1] = 0x30 + fn;
  out.set(text, 2);
  let at = 2 + text.length;
  out[at++] = final ? ETX : ETB;
  out.write(checksum(fn, text, final), at, 'latin1');
  at += 2;
  out[at++] = CR;
  out[at] = 0x0a;
  return out;
}

export interface OutgoingFrame {
  number: number;
  final: boolean;
  bytes: Buffer;
}

/**
 * Lays out a message in the standard's way: one record per frame, the record's CR the last text
 * byte before ETX, a record longer than `maxText` split into intermediate ETB frames. `records`
 * hold record text without the CR. Frame numbers start at `firstNumber` (1 after each ENQ/ACK).
 */
export function layoutFrames(
  records: readonly Uint8Array[],
  maxText = DEFAULT_SEND_FRAME_TEXT,
  firstNumber = 1,
): OutgoingFrame[] {
  if (maxText < 1) throw new RangeError('maxText must be at least 1');
  const frames: OutgoingFrame[] = [];
  let number = firstNumber % 8;
  for (const record of records) {
    const text = Buffer.concat([record, Buffer.of(CR)]);
    for (let start = 0; start < text.length; start += maxText) {
      const part = text.subarray(start, start + maxText);
      const final = start + maxText >= text.length;
      frames.push({ number, final, bytes: encodeFrame(number, part, final) });
      number = (number + 1) % 8;
    }
  }
  return frames;
}

/** A frame as received, checked for form but not for sequence (the session does that). */
export interface ReceivedFrame {
  /** The FN digit, or null when the byte after STX was not a digit. */
  number: number | null;
  text: Buffer;
  /** true for ETX (end of a message part), false for ETB (more follows). */
  final: boolean;
  /** The two checksum characters as received. */
  checksum: string;
  /** The checksum the frame should carry. */
  expected: string;
  /** Every byte from STX through the checksum. */
  raw: Buffer;
  /** Where the STX lies in the stream pushed so far (`raw` follows it contiguously). */
  offset: number;
  /** The first restricted byte found in the text, if any. */
  restricted: number | null;
}

export type ScanItem =
  | { kind: 'frame'; frame: ReceivedFrame }
  /**
   * A frame just passed the text limit: the rest of it is discarded, and a `broken` item with
   * reason `too-large` follows when it ends. Reported early so an endless frame is seen.
   */
  | { kind: 'oversize'; bytes: number; limit: number }
  /** ENQ, ACK, NAK or EOT seen outside a frame. */
  | { kind: 'control'; byte: number }
  /**
   * A frame that could not be used: longer than the limit, or cut short by STX, ENQ or EOT.
   * `bytes` counts its text bytes; `interruptedBy` is the byte that cut it short, or null when the
   * sender finished it (only an oversized frame can be finished and still broken). That byte is
   * then handled outside the frame as usual.
   */
  | {
      kind: 'broken';
      reason: 'too-large' | 'interrupted';
      bytes: number;
      interruptedBy: number | null;
    };

const enum State {
  Hunt,
  Number,
  Text,
  Check1,
  Check2,
  Oversized,
  OversizedCheck1,
  OversizedCheck2,
}

/**
 * Streaming frame scanner. Feed it chunks split anywhere; it yields frames and control bytes in
 * order. Bytes outside frames other than control bytes are ignored (E1381 6.5.1), and so are the
 * CR/LF after a checksum, so `C1 C2 CR LF`, `C1 C2 LF` and `C1 C2 CR` endings all work.
 * Frames keep views into the chunks they came from: callers must not reuse a chunk's memory
 * (socket reads never do).
 */
export class FrameScanner {
  private state = State.Hunt;
  private number: number | null = null;
  private text: Buffer[] = [];
  private raw: Buffer[] = [];
  private textLength = 0;
  private sum = 0;
  private final = false;
  private check1 = 0;
  private restricted: number | null = null;
  /** Bytes pushed before the current chunk, and the stream offset of the current frame's STX. */
  private streamAt = 0;
  private frameAt = 0;

  constructor(private readonly maxText = DEFAULT_MAX_FRAME_TEXT) {}

  /** True while a frame has started but not ended. */
  get inFrame(): boolean {
    return this.state !== State.Hunt;
  }

  /** Text bytes held for an unfinished frame. */
  get buffered(): number {
    return this.state === State.Text ? this.textLength : 0;
  }

  /** Forgets any partial frame. */
  reset(): void {
    this.state = State.Hunt;
    this.text = [];
    this.raw = [];
    this.textLength = 0;
  }

  *push(chunk: Buffer): Generator<ScanItem> {
    const n = chunk.length;
    const base = this.streamAt;
    this.streamAt += n;
    let i = 0;
    let rawStart = 0; // where this chunk's share of the current frame's raw bytes begins
    while (i < n) {
      const byte = chunk[i]!;
      switch (this.state) {
        case State.Hunt:
          if (byte === STX) {
            this.begin();
            rawStart = i;
            this.frameAt = base + i;
          } else if (byte === ENQ || byte === EOT || byte === ACK || byte === NAK) {
            yield { kind: 'control', byte };
          } else {
            // Skip a run of ignored bytes in one go, so junk on the line costs little.
            i++;
            while (i < n && !isSignificantOutside(chunk[i]!)) i++;
            break;
          }
          i++;
          break;
        case State.Number:
          if (cutsFrame(byte)) {
            yield this.broken('interrupted', byte);
            continue; // handle the byte again, outside the frame
          }
          this.number = byte >= 0x30 && byte <= 0x37 ? byte - 0x30 : null;
          this.sum = byte;
          this.state = State.Text;
          i++;
          break;
        case State.Text: {
          // The hot loop: take a whole run of text bytes at once.
          let j = i;
          let sum = this.sum;
          let restricted = this.restricted;
          while (j < n) {
            const b = chunk[j]!;
            // Every byte that ends the text or is restricted lies below 0x18: one test for the rest.
            if (b < 0x18) {
              if (b === ETX || b === ETB || b === STX || b === ENQ || b === EOT) break;
              if (restricted === null && isRestricted(b)) restricted = b;
            }
            sum += b;
            j++;
          }
          this.sum = sum;
          this.restricted = restricted;
          this.textLength += j - i;
          if (j > i) this.text.push(chunk.subarray(i, j));
          i = j;
          if (this.textLength > this.maxText) {
            this.text = [];
            this.raw = [];
            this.state = State.Oversized;
            // Said at once, so an endless frame is noticed now rather than when (if) it ends.
            yield { kind: 'oversize', bytes: this.textLength, limit: this.maxText };
            break;
          }
          if (i >= n) break;
          const end = chunk[i]!;
          if (end === ETX || end === ETB) {
            this.final = end === ETX;
            this.sum += end;
            this.state = State.Check1;
            i++;
          } else {
            yield this.broken('interrupted', end);
          }
          break;
        }
        case State.Check1:
          // A frame cut short right after ETX/ETB must not swallow the EOT or STX that follows.
          if (cutsFrame(byte)) {
            yield this.broken('interrupted', byte);
            continue;
          }
          this.check1 = byte;
          this.state = State.Check2;
          i++;
          break;
        case State.Check2: {
          if (cutsFrame(byte)) {
            yield this.broken('interrupted', byte);
            continue;
          }
          const check = String.fromCharCode(this.check1, byte);
          i++;
          this.raw.push(chunk.subarray(rawStart, i));
          const frame: ReceivedFrame = {
            number: this.number,
            text: joined(this.text),
            final: this.final,
            checksum: check,
            expected: hex2(this.sum & 0xff),
            raw: joined(this.raw),
            offset: this.frameAt,
            restricted: this.restricted,
          };
          this.reset();
          yield { kind: 'frame', frame };
          break;
        }
        case State.Oversized: {
          if (byte === ETX || byte === ETB) {
            this.state = State.OversizedCheck1;
          } else if (cutsFrame(byte)) {
            yield this.broken('too-large', byte);
            continue;
          } else {
            // Discard the rest of the run at once (native searches: an endless frame is read
            // as fast as the socket delivers it).
            const j = nextOf(chunk, i + 1, ENDS_OVERSIZED);
            this.textLength += j - i;
            i = j;
            break;
          }
          i++;
          break;
        }
        case State.OversizedCheck1:
        case State.OversizedCheck2:
          if (cutsFrame(byte)) {
            yield this.broken('too-large', byte);
            continue;
          }
          i++;
          if (this.state === State.OversizedCheck1) this.state = State.OversizedCheck2;
          else yield this.broken('too-large', null);
          break;
      }
    }
    if (this.state !== State.Hunt && this.state < State.Oversized && rawStart < n) {
      this.raw.push(chunk.subarray(rawStart));
    }
  }

  private begin(): void {
    this.state = State.Number;
    this.text = [];
    this.raw = [];
    this.textLength = 0;
    this.restricted = null;
    this.number = null;
  }

  private broken(reason: 'too-large' | 'interrupted', interruptedBy: number | null): ScanItem {
    const bytes = this.textLength;
    this.reset();
    return { kind: 'broken', reason, bytes, interruptedBy };
  }
}

/** Bytes that mean something between frames: a frame start or a control byte. */
function isSignificantOutside(byte: number): boolean {
  return byte === STX || byte === ENQ || byte === EOT || byte === ACK || byte === NAK;
}

/** Bytes that end the discarding of an oversized frame's text. */
const ENDS_OVERSIZED = [ETX, ETB, STX, ENQ, EOT] as const;

/**
 * The index of the first of `bytes` in `chunk` at or after `from`, or chunk.length. Native
 * searches, one per byte value, in windows that double from 64 bytes: the cost follows the
 * distance to the byte found, so a chunk dense with significant bytes is not searched to its
 * end for each of them.
 */
function nextOf(chunk: Buffer, from: number, bytes: readonly number[]): number {
  const n = chunk.length;
  let start = from;
  let size = 64;
  while (start < n) {
    const end = Math.min(n, start + size);
    let window = chunk.subarray(start, end);
    let best = -1;
    for (const byte of bytes) {
      const at = window.indexOf(byte);
      if (at >= 0) {
        best = at;
        window = window.subarray(0, at);
      }
    }
    if (best >= 0) return start + best;
    start = end;
    size *= 2;
  }
  return n;
}

/** Bytes that end a frame early wherever they appear: a new frame, a new session, the end. */
function cutsFrame(byte: number): boolean {
  return byte === STX || byte === ENQ || byte === EOT;
}

function joined(parts: Buffer[]): Buffer {
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
