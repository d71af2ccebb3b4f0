/**
 * A raw TCP peer for feeding a gateway bytes it did not expect: every read is kept, and a test
 * waits for replies with a deadline instead of hanging when one never comes.
 */
import net from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { MllpFramer } from '../../../src-main/protocols/hl7/mllp';
import { readHl7Payload } from '../../../src-main/protocols/hl7/payload';
import { randomChunks, type Rng } from './random';

export const LOOPBACK = '127.0.0.1';

/** Resolves with `value`, or with `fallback` after `ms`. */
export function withDeadline<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it holds; false when `ms` passed first. */
export async function eventually(check: () => boolean, ms: number, everyMs = 5): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
  return true;
}

export function connectTo(port: number, timeoutMs = 5_000): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: LOOPBACK, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no connection to ${LOOPBACK}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.setNoDelay(true);
      resolve(socket);
    });
    const onError = (error: Error) => {
      clearTimeout(timer);
      reject(error);
    };
    socket.once('error', onError);
  });
}

/** Writes `bytes` in random pieces, sometimes letting a turn of the event loop pass between them. */
export async function writeChunked(
  socket: net.Socket,
  bytes: Buffer,
  rng: Rng,
  maxPieces = 6,
): Promise<void> {
  for (const piece of randomChunks(bytes, rng, maxPieces)) {
    if (socket.destroyed) return;
    const drained = socket.write(piece);
    if (!drained) await new Promise((resolve) => socket.once('drain', resolve));
    else if (rng.chance(0.3)) await nextTurn();
  }
}

/** The bytes a peer received, in order, and the moment its socket closed. */
export class RawPeer {
  readonly replies: number[] = [];
  closed = false;
  private readonly waiters = new Set<() => void>();

  /** `keepBytes: false` for peers that read their replies some other way (see AckReader). */
  constructor(
    readonly socket: net.Socket,
    keepBytes = true,
  ) {
    socket.on('data', (chunk: Buffer) => {
      if (keepBytes) for (const byte of chunk) this.replies.push(byte);
      this.notify();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
  }

  static async connect(port: number): Promise<RawPeer> {
    return new RawPeer(await connectTo(port));
  }

  /** The next byte received, or null when none came within `ms` (or the socket closed). */
  async nextByte(ms: number): Promise<number | null> {
    if (this.replies.length > 0) return this.replies.shift()!;
    const arrived = await this.until(() => this.replies.length > 0, ms);
    return arrived ? this.replies.shift()! : null;
  }

  /** Resolves true once `check` holds, false after `ms` or when the socket closed first. */
  until(check: () => boolean, ms: number): Promise<boolean> {
    if (check()) return Promise.resolve(true);
    if (this.closed) return Promise.resolve(false);
    return withDeadline(
      new Promise<boolean>((resolve) => {
        const retry = () => {
          if (check()) {
            this.waiters.delete(retry);
            resolve(true);
          } else if (this.closed) {
            this.waiters.delete(retry);
            resolve(false);
          }
        };
        this.waiters.add(retry);
      }),
      ms,
      false,
    );
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Ends our side and waits until the socket is closed. */
  async end(ms = 5_000): Promise<boolean> {
    this.socket.end();
    return this.until(() => this.closed, ms);
  }

  /** Lets pending `until` checks look again. */
  notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

export interface ReceivedAck {
  /** MSA-1, e.g. AA, AE, AR. */
  code: string;
  /** MSA-2: the control ID of the message acknowledged. */
  controlId: string;
  hasErr: boolean;
  text: string;
}

/** Reads HL7 ACKs from a peer's MLLP stream. */
export class AckReader {
  readonly acks: ReceivedAck[] = [];
  readonly peer: RawPeer;
  private readonly framer = new MllpFramer({ maxMessageBytes: 1_048_576 });

  constructor(socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const item of this.framer.push(chunk)) {
        if (item.kind === 'message') this.acks.push(parseAck(item.payload));
      }
    });
    // Registered after the framer's listener, so a waiter woken by this chunk sees its ACKs.
    this.peer = new RawPeer(socket, false);
  }

  static async connect(port: number): Promise<AckReader> {
    return new AckReader(await connectTo(port));
  }

  /**
   * Waits for the ACK of `controlId` and returns every ACK received up to and including it, or
   * null (leaving them queued) when it did not come within `ms`.
   */
  async through(controlId: string, ms: number): Promise<ReceivedAck[] | null> {
    const found = () => this.acks.some((ack) => ack.controlId === controlId);
    if (!(await this.peer.until(found, ms))) return null;
    const at = this.acks.findIndex((ack) => ack.controlId === controlId);
    return this.acks.splice(0, at + 1);
  }

  /** Waits until `count` ACKs are queued and takes them; null if they did not all come. */
  async take(count: number, ms: number): Promise<ReceivedAck[] | null> {
    if (!(await this.peer.until(() => this.acks.length >= count, ms))) return null;
    return this.acks.splice(0, count);
  }
}

/** Read as the gateway reads messages (charset of MSH-18, values unescaped), so IDs compare. */
export function parseAck(payload: Buffer): ReceivedAck {
  const read = readHl7Payload(payload, { defaultCharset: 'latin1' });
  const message = read.message;
  return {
    code: message?.get('MSA', 1) ?? '',
    controlId: message?.get('MSA', 2) ?? '',
    hasErr: message?.segment('ERR') !== undefined,
    text: read.text,
  };
}
