/**
 * MLLP blocks: `0B` payload `1C 0D`. This module only frames; what the payload means is for the
 * HL7 parser. Reads may split or join blocks anywhere, so the framer keeps the unfinished block
 * between pushes and finds block boundaries with Buffer.indexOf (native memchr) rather than
 * walking bytes in JavaScript.
 */
import { protocolError, type ProtocolError } from '../errors';

export const VT = 0x0b;
export const FS = 0x1c;
export const CR = 0x0d;
const ACK_BYTE = 0x06;
const NAK_BYTE = 0x15;

export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

/** MLLP Release 2 commit acknowledgement blocks. */
export const MLLP_COMMIT_ACK: Buffer = Buffer.from([VT, ACK_BYTE, FS, CR]);
export const MLLP_COMMIT_NAK: Buffer = Buffer.from([VT, NAK_BYTE, FS, CR]);

export type MllpItem =
  /** The bytes between `0B` and `1C 0D`. */
  /** `offset`: where the payload's first byte lies in the stream pushed so far. */
  | { kind: 'message'; payload: Buffer; offset: number }
  /** An MLLP Release 2 commit ACK (`0B 06 1C 0D`, accepted) or NAK (`0B 15 1C 0D`). */
  | { kind: 'commit'; accepted: boolean }
  /**
   * Something wrong with the stream; the framer has already recovered. `partial` holds the bytes
   * of a block that never ended (cut by a new `0B` or by the end of the stream).
   */
  | { kind: 'error'; error: ProtocolError; partial?: Buffer };

export interface MllpFramerOptions {
  /** Largest payload accepted; a bigger one is dropped with MLLP_MESSAGE_TOO_LARGE. */
  maxMessageBytes?: number;
}

const enum State {
  Outside,
  Inside,
  Discarding,
}

/** `0B` payload `1C 0D`. */
export function frameMllp(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(payload.length + 3);
  out[0] = VT;
  out.set(payload, 1);
  out[payload.length + 1] = FS;
  out[payload.length + 2] = CR;
  return out;
}

function hexPreview(bytes: Buffer): string {
  const shown = [...bytes.subarray(0, 8)].map((b) => b.toString(16).toUpperCase().padStart(2, '0'));
  return shown.join(' ') + (bytes.length > 8 ? ' ...' : '');
}

function isBlank(byte: number): boolean {
  return byte === CR || byte === 0x0a || byte === 0x20 || byte === 0x09 || byte === 0x00;
}

/**
 * Streaming MLLP framer. Feed it socket reads as they come; it yields complete payloads, commit
 * ACK/NAK blocks and coded errors, in order. Payloads may be views into the pushed chunks: callers
 * must not reuse a chunk's memory afterwards (socket reads never do).
 *
 * Recovery rules: bytes outside a block are ignored, reported once per run (CR/LF/space runs,
 * which some senders put after `1C 0D`, silently); a `1C` not followed by `0D` still ends the
 * block (MLLP_BAD_END_BLOCK); a `0B` inside a block starts a new one and drops the unfinished one
 * (MLLP_INCOMPLETE_BLOCK); an oversized block is released at once and skipped up to its end.
 */
export class MllpFramer {
  private readonly maxMessageBytes: number;
  private state = State.Outside;
  private parts: Buffer[] = [];
  private length = 0;
  /** The previous chunk ended with `1C`; the next byte decides whether it was a clean end. */
  private pendingEnd = false;
  private junkReported = false;
  /** Bytes pushed before the current chunk. */
  private streamAt = 0;
  /** Stream offset of the current block's first payload byte. */
  private blockAt = 0;

  constructor(options: MllpFramerOptions = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    if (!(this.maxMessageBytes >= 1)) throw new RangeError('maxMessageBytes must be at least 1');
  }

  /** Payload bytes held for an unfinished block. */
  get buffered(): number {
    return this.length;
  }

  /** True between a `0B` and its end block (including while skipping an oversized block). */
  get inBlock(): boolean {
    return this.state !== State.Outside;
  }

  /** Forgets any unfinished block. */
  reset(): void {
    this.state = State.Outside;
    this.parts = [];
    this.length = 0;
    this.pendingEnd = false;
    this.junkReported = false;
  }

  *push(chunk: Buffer): Generator<MllpItem> {
    const n = chunk.length;
    const base = this.streamAt;
    this.streamAt += n;
    let i = 0;
    if (this.pendingEnd && n > 0) {
      this.pendingEnd = false;
      const clean = chunk[0] === CR;
      if (this.state === State.Inside) yield* this.complete(clean);
      else this.state = State.Outside;
      if (clean) i = 1;
    }
    while (i < n) {
      if (this.state === State.Outside) {
        const start = chunk.indexOf(VT, i);
        const stop = start < 0 ? n : start;
        if (stop > i && !this.junkReported) {
          const junk = chunk.subarray(i, stop);
          if (!junk.every(isBlank)) {
            this.junkReported = true;
            yield {
              kind: 'error',
              error: protocolError(
                'MLLP_UNEXPECTED_BYTES',
                `ignored bytes outside an MLLP block (before 0B): ${hexPreview(junk)}`,
              ),
            };
          }
        }
        if (start < 0) return;
        i = start + 1;
        this.begin(base + i);
        continue;
      }

      const end = chunk.indexOf(FS, i);
      const dataEnd = end < 0 ? n : end;
      const restart = chunk.subarray(i, dataEnd).indexOf(VT);
      if (restart >= 0) {
        if (this.state === State.Inside) {
          this.keep(chunk, i, i + restart);
          yield this.interrupted('a new block (0B) started before the previous one ended');
        }
        i += restart + 1;
        this.begin(base + i);
        continue;
      }
      if (this.state === State.Inside) {
        if (this.length + (dataEnd - i) > this.maxMessageBytes) {
          this.parts = [];
          this.length = 0;
          this.state = State.Discarding;
          yield {
            kind: 'error',
            error: protocolError(
              'MLLP_MESSAGE_TOO_LARGE',
              `message larger than the ${this.maxMessageBytes}-byte limit; discarded up to its end block`,
            ),
          };
        } else {
          this.keep(chunk, i, dataEnd);
        }
      }
      if (end < 0) return;
      if (end + 1 >= n) {
        this.pendingEnd = true;
        return;
      }
      const clean = chunk[end + 1] === CR;
      if (this.state === State.Inside) yield* this.complete(clean);
      else this.state = State.Outside;
      i = clean ? end + 2 : end + 1;
    }
  }

  /**
   * The stream has ended (connection closed, file read). Reports a block left unfinished and
   * forgets it.
   */
  *end(): Generator<MllpItem> {
    if (this.state === State.Inside) {
      if (this.pendingEnd) {
        this.pendingEnd = false;
        yield* this.complete(false);
      } else {
        yield this.interrupted('the stream ended inside a block');
      }
    }
    this.reset();
  }

  private begin(at: number): void {
    this.blockAt = at;
    this.state = State.Inside;
    this.parts = [];
    this.length = 0;
    this.junkReported = false;
  }

  private keep(chunk: Buffer, from: number, to: number): void {
    if (to > from) {
      this.parts.push(chunk.subarray(from, to));
      this.length += to - from;
    }
  }

  private take(): Buffer {
    const parts = this.parts;
    const payload = parts.length === 1 ? parts[0]! : Buffer.concat(parts, this.length);
    this.parts = [];
    this.length = 0;
    this.state = State.Outside;
    return payload;
  }

  private *complete(clean: boolean): Generator<MllpItem> {
    const payload = this.take();
    if (!clean) {
      yield {
        kind: 'error',
        error: protocolError(
          'MLLP_BAD_END_BLOCK',
          'end block 1C was not followed by 0D; the message was taken as ending there',
        ),
      };
    }
    if (payload.length === 1 && (payload[0] === ACK_BYTE || payload[0] === NAK_BYTE)) {
      yield { kind: 'commit', accepted: payload[0] === ACK_BYTE };
    } else {
      yield { kind: 'message', payload, offset: this.blockAt };
    }
  }

  private interrupted(why: string): MllpItem {
    const bytes = this.length;
    const partial = this.take();
    return {
      kind: 'error',
      error: protocolError('MLLP_INCOMPLETE_BLOCK', `${why}; ${bytes} bytes of it were dropped`),
      partial,
    };
  }
}
