/**
 * The sending side of HL7 over MLLP (the simulator, and forwarding): queue messages, emit their
 * framed bytes, match each ACK to its message by MSA-2, time out the silent ones. Sans-I/O: the
 * caller writes `send` bytes to its socket and pushes what it reads into `receive`.
 */
import { Timer, type Clock } from '../clock';
import { protocolError, type ProtocolError } from '../errors';
import type { AckCode } from './ack';
import { charsetForSending, encodeHl7Text, type CharsetOptions } from './charset';
import { Hl7ParseError, parseHl7, type Hl7Message } from './message';
import { readHl7Payload } from './payload';
import { frameMllp, MllpFramer } from './mllp';

export type Hl7SenderEvent =
  /** Write these bytes to the peer. */
  | { type: 'send'; id: string; bytes: Buffer }
  /**
   * The peer has the message (CA, or an MLLP commit ACK) and its application ACK is still due:
   * the message stays outstanding.
   */
  | { type: 'committed'; id: string; code: 'CA' | 'commit' }
  | { type: 'acked'; id: string; code: AckCode; ack: Hl7Message }
  | {
      type: 'rejected';
      id: string;
      /** MSA-1 as received (AE, AR, CE, CR, or whatever the peer sent), or NAK for a commit NAK. */
      code: string;
      /** MSA-3 / ERR text, or a description of the code when the ACK gives none. */
      text: string;
      ack: Hl7Message | null;
      error: ProtocolError;
    }
  | { type: 'timeout'; id: string; error: ProtocolError }
  | { type: 'error'; error: ProtocolError };

export interface Hl7SenderOptions extends CharsetOptions {
  clock: Clock;
  onEvent: (event: Hl7SenderEvent) => void;
  /** How long to wait for a message's ACK. */
  ackTimeoutMs?: number;
  /** Messages sent and not yet acknowledged at any time. 1 is MLLP's usual stop-and-wait. */
  window?: number;
  /** Largest incoming MLLP payload accepted. */
  maxMessageBytes?: number;
}

export const DEFAULT_ACK_TIMEOUT_MS = 30_000;

interface Outgoing {
  id: string;
  text: string;
  bytes: Buffer;
  /** Enhanced mode with MSH-16 AL: a CA is not the end, the application ACK is awaited. */
  awaitsApplicationAck: boolean;
  committed: boolean;
  timer: Timer | null;
}

const RECENT_LIMIT = 256;

export class Hl7Sender {
  private readonly clock: Clock;
  private readonly onEvent: (event: Hl7SenderEvent) => void;
  private readonly ackTimeoutMs: number;
  private readonly window: number;
  private readonly charsetOptions: CharsetOptions;
  private readonly framer: MllpFramer;
  private readonly queue: Outgoing[] = [];
  /** In the order sent. */
  private readonly inFlight: Outgoing[] = [];
  /** IDs resolved lately, so a late ACK is told apart from one nobody asked for. */
  private readonly recent = new Map<string, string>();
  private closed = false;

  constructor(options: Hl7SenderOptions) {
    this.clock = options.clock;
    this.onEvent = options.onEvent;
    this.ackTimeoutMs = options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
    this.window = options.window ?? 1;
    if (!(this.window >= 1)) throw new RangeError('window must be at least 1');
    this.charsetOptions = { defaultCharset: options.defaultCharset };
    this.framer = new MllpFramer({ maxMessageBytes: options.maxMessageBytes });
  }

  /** Messages sent and awaiting their ACK. */
  get outstanding(): number {
    return this.inFlight.length;
  }

  /** Messages waiting for room in the window. */
  get queued(): number {
    return this.queue.length;
  }

  /** Nothing queued and nothing awaiting an ACK. */
  get idle(): boolean {
    return this.queue.length === 0 && this.inFlight.length === 0;
  }

  /**
   * Queues a message (HL7 text, segments separated by CR) and sends it when the window allows.
   * Returns its ID, MSH-10. Throws RangeError for a message without MSH or MSH-10, or whose MSH-10
   * is already waiting: ACKs could not be told apart.
   */
  send(message: string | Hl7Message): string {
    if (this.closed) throw new RangeError('the sender is closed');
    let parsed: Hl7Message;
    try {
      parsed = typeof message === 'string' ? parseHl7(message) : message;
    } catch (error) {
      if (error instanceof Hl7ParseError) throw new RangeError(`cannot send: ${error.message}`);
      throw error;
    }
    const msh = parsed.msh;
    const id = msh.controlId;
    if (id === '') throw new RangeError('cannot send a message without a control ID (MSH-10)');
    if (this.find(id) !== undefined) {
      throw new RangeError(`a message with control ID ${id} is already waiting for its ACK`);
    }
    const text = typeof message === 'string' ? normalizeText(message) : parsed.toString();
    const charset = charsetForSending(msh.charset, this.charsetOptions);
    const enhanced = msh.acceptAck.trim() !== '' || msh.appAck.trim() !== '';
    this.queue.push({
      id,
      text,
      bytes: frameMllp(encodeHl7Text(text, charset)),
      awaitsApplicationAck: enhanced && msh.appAck.trim().toUpperCase() === 'AL',
      committed: false,
      timer: null,
    });
    this.recent.delete(id);
    this.pump();
    return id;
  }

  /** Bytes read from the peer. */
  receive(chunk: Buffer): void {
    for (const item of this.framer.push(chunk)) {
      if (item.kind === 'message') this.handlePayload(item.payload);
      else if (item.kind === 'commit') this.handleCommit(item.accepted);
      else this.emit({ type: 'error', error: item.error });
    }
  }

  /** Stops every timer and drops the queue; returns the IDs that never got an ACK. */
  close(): string[] {
    this.closed = true;
    const pending = [...this.inFlight, ...this.queue];
    for (const entry of this.inFlight) entry.timer?.disarm();
    this.inFlight.length = 0;
    this.queue.length = 0;
    this.framer.reset();
    return pending.map((entry) => entry.id);
  }

  private find(id: string): Outgoing | undefined {
    return this.inFlight.find((e) => e.id === id) ?? this.queue.find((e) => e.id === id);
  }

  private pump(): void {
    while (!this.closed && this.inFlight.length < this.window && this.queue.length > 0) {
      const entry = this.queue.shift()!;
      this.inFlight.push(entry);
      this.arm(entry);
      this.emit({ type: 'send', id: entry.id, bytes: entry.bytes });
    }
  }

  private arm(entry: Outgoing): void {
    entry.timer ??= new Timer(this.clock);
    entry.timer.arm(this.ackTimeoutMs, () => {
      if (!this.settle(entry, 'timed out')) return;
      this.emit({
        type: 'timeout',
        id: entry.id,
        error: protocolError(
          'HL7_ACK_TIMEOUT',
          `no ACK for message ${entry.id} within ${this.ackTimeoutMs / 1000} s`,
        ),
      });
      this.pump();
    });
  }

  /** Takes `entry` out of the window; false when it was no longer there. */
  private settle(entry: Outgoing, how: string): boolean {
    const index = this.inFlight.indexOf(entry);
    if (index < 0) return false;
    this.inFlight.splice(index, 1);
    entry.timer?.disarm();
    this.recent.set(entry.id, how);
    if (this.recent.size > RECENT_LIMIT) this.recent.delete(this.recent.keys().next().value!);
    return true;
  }

  private handlePayload(payload: Buffer): void {
    const read = readHl7Payload(payload, this.charsetOptions);
    const ack = read.message;
    if (ack === null) {
      const why = read.errors.map((e) => e.message).join('; ');
      this.emit({
        type: 'error',
        error: protocolError(
          'HL7_UNMATCHED_ACK',
          `received a reply that is not HL7 (${why}); ignored`,
        ),
      });
      return;
    }
    const msa = ack.segment('MSA');
    if (msa === undefined) {
      const type = [ack.msh.messageType.code, ack.msh.messageType.trigger]
        .filter(Boolean)
        .join('^');
      this.emit({
        type: 'error',
        error: protocolError(
          'HL7_UNSUPPORTED_MESSAGE',
          `received ${type || 'a message'} without an MSA segment while waiting for ACKs; ignored`,
        ),
      });
      return;
    }
    const code = msa.value(1).trim().toUpperCase();
    const id = msa.value(2);
    const entry = this.inFlight.find((e) => e.id === id);
    if (entry === undefined) {
      const earlier = this.recent.get(id);
      this.emit({
        type: 'error',
        error: protocolError(
          'HL7_UNMATCHED_ACK',
          earlier !== undefined
            ? `${code} for message ${id} arrived after the message was already ${earlier}; ignored`
            : `${code} for message ${id || '(no MSA-2)'}, which is not waiting for an ACK; ignored`,
        ),
      });
      return;
    }
    if (code === 'CA' && entry.awaitsApplicationAck) {
      entry.committed = true;
      this.arm(entry);
      this.emit({ type: 'committed', id, code: 'CA' });
      return;
    }
    if (code === 'AA' || code === 'CA') {
      this.settle(entry, 'acknowledged');
      this.emit({ type: 'acked', id, code: code === 'AA' ? 'AA' : 'CA', ack });
    } else {
      this.settle(entry, 'rejected');
      const text = ackText(ack) || describe(code);
      this.emit({
        type: 'rejected',
        id,
        code,
        text,
        ack,
        error: protocolError('HL7_ACK_REJECTED', `message ${id} rejected with ${code}: ${text}`),
      });
    }
    this.pump();
  }

  private handleCommit(accepted: boolean): void {
    const entry = this.inFlight.find((e) => !e.committed);
    if (entry === undefined) {
      this.emit({
        type: 'error',
        error: protocolError(
          'HL7_UNMATCHED_ACK',
          `MLLP commit ${accepted ? 'ACK' : 'NAK'} received with no message waiting; ignored`,
        ),
      });
      return;
    }
    if (accepted) {
      entry.committed = true;
      this.emit({ type: 'committed', id: entry.id, code: 'commit' });
      return;
    }
    this.settle(entry, 'rejected');
    const text = 'the receiver refused the block (MLLP commit NAK)';
    this.emit({
      type: 'rejected',
      id: entry.id,
      code: 'NAK',
      text,
      ack: null,
      error: protocolError('HL7_ACK_REJECTED', `message ${entry.id}: ${text}`),
    });
    this.pump();
  }

  private emit(event: Hl7SenderEvent): void {
    this.onEvent(event);
  }
}

/** Segments separated by CR whatever the caller used, the last one ended too. */
function normalizeText(text: string): string {
  const normalized = text.includes('\n') ? text.replace(/\r\n|\n/g, '\r') : text;
  return normalized.endsWith('\r') ? normalized : normalized + '\r';
}

function describe(code: string): string {
  switch (code) {
    case 'AE':
      return 'the receiver reported an error in the message (AE)';
    case 'AR':
      return 'the receiver rejected the message (AR)';
    case 'CE':
      return 'the receiver could not accept the message (CE)';
    case 'CR':
      return 'the receiver rejected the message (CR)';
    default:
      return `the receiver answered with the unknown code ${JSON.stringify(code)}`;
  }
}

/** The human text of an ACK: MSA-3, ERR-8 user message, ERR-3 / ERR-1 error text. */
export function ackText(ack: Hl7Message): string {
  const texts: string[] = [];
  const add = (value: string) => {
    const trimmed = value.trim();
    if (trimmed !== '' && !texts.includes(trimmed)) texts.push(trimmed);
  };
  add(ack.get('MSA', 3));
  for (const err of ack.segmentsNamed('ERR')) {
    add(err.value(8));
    add(err.value(3, 2));
    add(err.value(1, 4, 2));
  }
  return texts.join('; ');
}
