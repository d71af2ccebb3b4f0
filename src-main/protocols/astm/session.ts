/**
 * The E1381 (LIS1-A) transport for one connection: both directions of the half-duplex line as a
 * pure state machine. Bytes come in through `receive`, bytes to write and everything worth
 * knowing go out through `onEvent`; time comes from the injected clock.
 *
 * Work runs to completion, one step at a time: each event is handed to the listener before the
 * next received item is looked at. So a listener may call back into the session (settle, send,
 * receive, close) from inside onEvent, and a settle() made there takes effect before the bytes
 * that follow the completing frame, even when they arrived in the same chunk.
 */
import { Timer, type Cancel, type Clock } from '../clock';
import { protocolError, type ProtocolError, type ProtocolErrorCode } from '../errors';
import { ACK, ENQ, EOT, NAK, controlName, isRestricted } from './control';
import {
  DEFAULT_MAX_FRAME_TEXT,
  DEFAULT_SEND_FRAME_TEXT,
  FrameScanner,
  layoutFrames,
  type OutgoingFrame,
  type ReceivedFrame,
  type ScanItem,
} from './frame';
import {
  MessageAssembler,
  type AstmInboundMessage,
  type AstmTermination,
} from './session-assembly';

export type { AstmInboundMessage, AstmTermination } from './session-assembly';

export interface AstmTimeouts {
  /** Sender: wait for the reply to ENQ or to a frame [6.5.2]. */
  replyMs: number;
  /** Receiver: wait for the next frame or EOT, counted from our last reply [6.5.2]. */
  receiverMs: number;
  /** Sender: pause after the receiver answered NAK (busy) to our ENQ [6.2]. */
  busyRetryMs: number;
  /** Host after contention: how long to wait for the instrument's next ENQ [6.2]. */
  hostContentionMs: number;
  /** Instrument after contention: pause before sending ENQ again [6.2]. */
  instrumentContentionMs: number;
  /** Sender after a receiver interrupt: no ENQ during this time [6.3.4]. */
  interruptHoldMs: number;
  /** Sender after a failed attempt (retries exhausted, no reply): pause before a full retry. */
  failedRetryMs: number;
}

export const DEFAULT_ASTM_TIMEOUTS: Readonly<AstmTimeouts> = Object.freeze({
  replyMs: 15_000,
  receiverMs: 30_000,
  busyRetryMs: 10_000,
  hostContentionMs: 20_000,
  instrumentContentionMs: 1_000,
  interruptHoldMs: 15_000,
  failedRetryMs: 15_000,
});

/** Longest inbound message text; a frame that would make it longer is answered NAK. */
export const DEFAULT_MAX_MESSAGE_TEXT = 16 * 1024 * 1024;

/** Transmissions of one frame before the sender gives up on the attempt. */
export const DEFAULT_MAX_TRANSMISSIONS = 6;

/** `host`: the LIS side, which yields on contention. `instrument`: the analyzer, which wins. */
export type AstmRole = 'host' | 'instrument';

export interface AstmSessionOptions {
  clock: Clock;
  role: AstmRole;
  /** Longest frame text accepted; longer frames are answered NAK. */
  maxFrameText?: number;
  /** Longest message text accepted (records of one H..L message), to bound memory. */
  maxMessageText?: number;
  /** Text bytes per frame we send. */
  sendFrameText?: number;
  /** Transmissions of one frame before an attempt fails. */
  maxTransmissions?: number;
  timeouts?: Partial<AstmTimeouts>;
  onEvent: (event: AstmEvent) => void;
}

/**
 * - `neutral`: idle, an ENQ from the other side is answered;
 * - `establishing`: we sent ENQ and wait for the reply;
 * - `sending`: we sent a frame and wait for the reply;
 * - `receiving`: we accepted an ENQ and take frames until EOT;
 * - `closed`: after close(), nothing more happens.
 */
export type AstmLineState = 'neutral' | 'establishing' | 'sending' | 'receiving' | 'closed';

export type AstmEvent =
  /** Write these bytes to the wire. The buffer may be shared: do not modify it. */
  | { type: 'send'; bytes: Buffer }
  /**
   * Messages completed by one frame (usually one). The frame's ACK is held until `settle()`, so
   * that nothing is acknowledged before it is stored.
   */
  | { type: 'messages'; messages: AstmInboundMessage[] }
  /** A partial message cut short by EOT, ENQ, the receiver timeout or close(). */
  | { type: 'incomplete'; message: AstmInboundMessage }
  | { type: 'error'; error: ProtocolError }
  | { type: 'state'; state: AstmLineState }
  /** An outbound message was accepted frame by frame; the EOT ending it was sent. */
  | { type: 'delivered'; id: string }
  /**
   * An attempt to deliver an outbound message failed. With `willRetry` it stays queued and is
   * sent again from its start; otherwise it is dropped. The same error was also sent as 'error'.
   */
  | { type: 'deliveryFailed'; id: string; error: ProtocolError; willRetry: boolean };

/** What the line states handle: everything the scanner yields but the early oversize notice. */
type LineItem = Exclude<ScanItem, { kind: 'oversize' }>;

interface Outbound {
  id: string;
  frames: OutgoingFrame[];
}

/** Why the sender is not allowed to send ENQ yet. */
type HoldOff = 'busy' | 'contention' | 'interrupt' | 'failed';

/** A 'messages' event waiting for settle(): the frame that completed it, and how to undo it. */
interface HeldReply {
  frameNumber: number;
  lastNumber: number;
  anyAccepted: boolean;
}

/**
 * A timer pushed back after almost every frame. Moving the deadline later only records it; when
 * the clock's timer fires early it waits again for the rest. So a frame costs one now() call
 * instead of cancelling and scheduling a system timer.
 */
class Deadline {
  private at = 0;
  private firesAt = 0;
  private cancel: Cancel | null = null;
  private onExpire: () => void = () => {};

  constructor(private readonly clock: Clock) {}

  arm(ms: number, onExpire: () => void): void {
    this.at = this.clock.now() + ms;
    this.onExpire = onExpire;
    if (this.cancel === null || this.firesAt > this.at) this.schedule(ms);
  }

  disarm(): void {
    const cancel = this.cancel;
    this.cancel = null;
    cancel?.();
  }

  private schedule(ms: number): void {
    this.disarm();
    this.firesAt = this.clock.now() + ms;
    const cancel = this.clock.schedule(ms, () => {
      if (this.cancel !== cancel) return;
      this.cancel = null;
      const left = this.at - this.clock.now();
      if (left > 0) this.schedule(left);
      else this.onExpire();
    });
    this.cancel = cancel;
  }
}

const SEND_ACK: AstmEvent = { type: 'send', bytes: Buffer.of(ACK) };
const SEND_NAK: AstmEvent = { type: 'send', bytes: Buffer.of(NAK) };
const SEND_ENQ: AstmEvent = { type: 'send', bytes: Buffer.of(ENQ) };
const SEND_EOT: AstmEvent = { type: 'send', bytes: Buffer.of(EOT) };

export class AstmSession {
  /** While true, an ENQ is answered NAK (for example while storage is down). */
  busy = false;

  private readonly clock: Clock;
  private readonly role: AstmRole;
  private readonly maxFrameText: number;
  private readonly maxMessageText: number;
  private readonly sendFrameText: number;
  private readonly maxTransmissions: number;
  private readonly timeouts: AstmTimeouts;
  private readonly onEvent: (event: AstmEvent) => void;

  private line: AstmLineState = 'neutral';
  private readonly events: AstmEvent[] = [];
  /** Chunks received but not yet scanned (receive() called from inside onEvent). */
  private readonly inbox: Buffer[] = [];
  /** Items of the chunk being handled. */
  private items: Iterator<ScanItem> | null = null;
  private running = false;
  private readonly scanner: FrameScanner;
  /** Reply timer while establishing or sending, receiver timer while receiving. */
  private readonly lineTimer: Deadline;
  private readonly holdTimer: Timer;

  // Receiving
  private readonly assembler = new MessageAssembler();
  private lastNumber = 0;
  private anyAccepted = false;
  private held: HeldReply | null = null;
  /** 'messages' events not yet settled; only the newest can still be held. */
  private unsettled = 0;

  // Sending
  private readonly queue: Outbound[] = [];
  private frameIndex = 0;
  private transmissions = 0;
  private holdOff: HoldOff | null = null;

  constructor(options: AstmSessionOptions) {
    this.clock = options.clock;
    this.role = options.role;
    this.maxFrameText = options.maxFrameText ?? DEFAULT_MAX_FRAME_TEXT;
    this.maxMessageText = options.maxMessageText ?? DEFAULT_MAX_MESSAGE_TEXT;
    this.sendFrameText = options.sendFrameText ?? DEFAULT_SEND_FRAME_TEXT;
    this.maxTransmissions = options.maxTransmissions ?? DEFAULT_MAX_TRANSMISSIONS;
    this.timeouts = { ...DEFAULT_ASTM_TIMEOUTS, ...options.timeouts };
    this.onEvent = options.onEvent;
    if (!(this.maxFrameText >= 1)) throw new RangeError('maxFrameText must be at least 1');
    if (!(this.maxMessageText >= 1)) throw new RangeError('maxMessageText must be at least 1');
    if (!(this.sendFrameText >= 1)) throw new RangeError('sendFrameText must be at least 1');
    if (!(this.maxTransmissions >= 1)) throw new RangeError('maxTransmissions must be at least 1');
    this.scanner = new FrameScanner(this.maxFrameText);
    this.lineTimer = new Deadline(this.clock);
    this.holdTimer = new Timer(this.clock);
  }

  get state(): AstmLineState {
    return this.line;
  }

  /** Outbound messages not yet delivered, the one in progress included. */
  get pendingOutbound(): number {
    return this.queue.length;
  }

  /**
   * Bytes from the wire, split or coalesced anywhere. Received frames keep views into `chunk`:
   * do not reuse its memory afterwards (socket reads never do).
   */
  receive(chunk: Buffer): void {
    if (this.line === 'closed') return;
    this.inbox.push(chunk);
    this.run();
  }

  /**
   * Answers the oldest unsettled 'messages' event. `ok`: the messages are stored, ACK the frame
   * that completed them. Otherwise NAK it and forget it, so that the sender's retransmission
   * rebuilds the same messages and they are emitted again. A late answer, after the sender has
   * ended the session, changes nothing.
   */
  settle(ok: boolean): void {
    if (this.line === 'closed' || this.unsettled === 0) return;
    this.unsettled--;
    const held = this.held;
    if (this.unsettled > 0 || held === null) return;
    this.held = null;
    if (ok) {
      this.queueEvent(SEND_ACK);
    } else {
      this.assembler.undoCompletingAppend();
      this.lastNumber = held.lastNumber;
      this.anyAccepted = held.anyAccepted;
      this.report(
        'ASTM_STORAGE_FAILED',
        `frame ${held.frameNumber} answered NAK because its message could not be stored; the sender will repeat it`,
      );
      this.queueEvent(SEND_NAK);
    }
    this.armReceiverTimer();
    this.run();
  }

  /**
   * Queues an outbound message: records without their trailing CR, laid out one record per
   * frame. It is sent as soon as the line allows, after the messages queued before it.
   */
  send(records: readonly Uint8Array[], id: string): void {
    if (records.length === 0) throw new RangeError('an ASTM message needs at least one record');
    if (this.line === 'closed') {
      this.fail(
        id,
        protocolError('ASTM_SESSION_CLOSED', `message ${id} not sent: the session is closed`),
      );
      this.run();
      return;
    }
    const bad = findRestricted(records);
    if (bad) {
      this.fail(
        id,
        protocolError(
          'ASTM_RESTRICTED_CHARACTER',
          `message ${id} not sent: record ${bad.record + 1} contains ${controlName(bad.byte)}, which E1381 forbids in frame text`,
        ),
      );
      this.run();
      return;
    }
    this.queue.push({ id, frames: layoutFrames(records, this.sendFrameText, 1) });
    this.startSending();
    this.run();
  }

  /**
   * Stops timers and ends the session. A partial inbound message is emitted as incomplete;
   * queued outbound messages fail without retry; nothing more is sent, not even EOT.
   */
  close(): void {
    if (this.line === 'closed') return;
    this.lineTimer.disarm();
    this.holdTimer.disarm();
    this.held = null;
    if (this.line === 'receiving') {
      this.flushIncomplete(
        'closed',
        protocolError(
          'ASTM_INCOMPLETE_MESSAGE',
          'connection closed before the L (terminator) record',
        ),
      );
    }
    for (const message of this.queue.splice(0)) {
      this.fail(
        message.id,
        protocolError(
          'ASTM_SESSION_CLOSED',
          `message ${message.id} not delivered: connection closed`,
        ),
      );
    }
    this.setState('closed');
    this.run();
  }

  // ── dispatch ──────────────────────────────────────────────────────────────

  private handle(item: ScanItem): void {
    if (item.kind === 'oversize') {
      // Not a reply to anything: the frame is answered (NAK) when it ends.
      if (this.line === 'receiving') {
        this.report(
          'ASTM_FRAME_TOO_LARGE',
          `a frame passed the limit of ${item.limit} text bytes; the rest of it is discarded and it will be answered NAK`,
        );
      }
      return;
    }
    switch (this.line) {
      case 'neutral':
        return this.onNeutral(item);
      case 'receiving':
        return this.onReceiving(item);
      case 'establishing':
        return this.onEstablishing(item);
      case 'sending':
        return this.onSending(item);
      case 'closed':
        return;
    }
  }

  private onNeutral(item: LineItem): void {
    if (item.kind === 'control') {
      if (item.byte === ENQ) this.answerEnq();
      else if (item.byte !== EOT) {
        this.report(
          'ASTM_UNEXPECTED_BYTE',
          `${controlName(item.byte)} while the line is idle: ignored`,
        );
      }
    } else if (item.kind === 'frame') {
      this.report(
        'ASTM_UNEXPECTED_BYTE',
        `${frameName(item.frame)} arrived while the line is idle (no ENQ before it): ignored`,
      );
    }
  }

  // ── receiving ─────────────────────────────────────────────────────────────

  private answerEnq(): void {
    if (this.busy) {
      this.report('ASTM_BUSY', 'ENQ answered NAK: receiving is paused (busy)');
      this.queueEvent(SEND_NAK);
      return;
    }
    if (this.holdOff === 'contention') this.endHoldOff();
    this.assembler.reset();
    this.lastNumber = 0;
    this.anyAccepted = false;
    this.setState('receiving');
    this.queueEvent(SEND_ACK);
    this.armReceiverTimer();
  }

  private onReceiving(item: LineItem): void {
    if (item.kind === 'control') {
      if (item.byte === EOT) {
        this.endReceiving('EOT');
      } else if (item.byte === ENQ) {
        // The sender began a new session without ending the last one (its EOT went missing).
        this.endReceiving('ENQ');
        this.answerEnq();
      } else {
        this.report(
          'ASTM_UNEXPECTED_BYTE',
          `${controlName(item.byte)} while receiving frames: ignored`,
        );
      }
      return;
    }
    if (this.held) {
      // A stop-and-wait sender waits for our reply; answering this too would shift every reply.
      this.report(
        'ASTM_UNEXPECTED_BYTE',
        `${item.kind === 'frame' ? frameName(item.frame) : 'a frame'} arrived before frame ${this.held.frameNumber} was answered: ignored`,
      );
      return;
    }
    if (item.kind === 'frame') return this.onFrame(item.frame);
    if (item.interruptedBy === null) {
      this.reject(
        'ASTM_FRAME_TOO_LARGE',
        `frame of ${item.bytes} text bytes refused, the limit is ${this.maxFrameText}`,
      );
    } else {
      // No reply: what cut it short (a frame, EOT or ENQ) gets the answer.
      this.assemblerError(
        'ASTM_BAD_FRAME',
        `frame cut short by ${controlName(item.interruptedBy)} after ${item.bytes} text bytes: ignored`,
      );
    }
  }

  private onFrame(frame: ReceivedFrame): void {
    const number = frame.number;
    if (number === null) {
      return this.reject(
        'ASTM_BAD_FRAME_NUMBER',
        `frame number ${describeByte(frame.raw[1])} is not a digit 0 to 7`,
      );
    }
    if (!sameChecksum(frame.checksum, frame.expected)) {
      return this.reject(
        'ASTM_BAD_CHECKSUM',
        `frame ${number}: checksum expected ${frame.expected}, got ${printable(frame.checksum)}`,
      );
    }
    if (frame.restricted !== null) {
      return this.reject(
        'ASTM_RESTRICTED_CHARACTER',
        `frame ${number}: restricted character ${controlName(frame.restricted)} in the text`,
      );
    }
    if (this.anyAccepted && number === this.lastNumber) {
      this.assemblerError(
        'ASTM_DUPLICATE_FRAME',
        `frame ${number} received again (our ACK was lost); acknowledged, kept once`,
      );
      this.queueEvent(SEND_ACK);
      this.armReceiverTimer();
      return;
    }
    const expected = (this.lastNumber + 1) % 8;
    if (number !== expected) {
      return this.reject(
        'ASTM_BAD_FRAME_NUMBER',
        `frame ${number} received, expected frame ${expected}`,
      );
    }
    if (this.assembler.bytes + frame.text.length > this.maxMessageText) {
      return this.reject(
        'ASTM_MESSAGE_TOO_LARGE',
        `frame ${number} would make the message longer than ${this.maxMessageText} bytes`,
      );
    }
    const lastNumber = this.lastNumber;
    const anyAccepted = this.anyAccepted;
    const messages = this.assembler.append(frame, this.clock.now());
    this.lastNumber = number;
    this.anyAccepted = true;
    if (messages === null) {
      this.queueEvent(SEND_ACK);
      this.armReceiverTimer();
      return;
    }
    this.held = { frameNumber: number, lastNumber, anyAccepted };
    this.unsettled++;
    this.lineTimer.disarm(); // the 30 s count restarts from the reply settle() sends
    this.queueEvent({ type: 'messages', messages });
  }

  /** NAKs the frame just received. */
  private reject(code: ProtocolErrorCode, message: string): void {
    this.assemblerError(code, `${message}; answered NAK`);
    this.queueEvent(SEND_NAK);
    this.armReceiverTimer();
  }

  private assemblerError(code: ProtocolErrorCode, message: string): void {
    const problem = protocolError(code, message);
    this.assembler.noteError(problem);
    this.queueEvent({ type: 'error', error: problem });
  }

  private endReceiving(terminated: 'EOT' | 'ENQ'): void {
    this.lineTimer.disarm();
    this.held = null; // a late settle() must not answer a session that is over
    this.setState('neutral');
    this.flushIncomplete(
      terminated,
      protocolError(
        'ASTM_INCOMPLETE_MESSAGE',
        `${terminated} after ${this.assembler.frames} frame(s) of a message without its L (terminator) record`,
      ),
    );
  }

  /** Emits the partial message as incomplete, if it holds any records, with `reason`. */
  private flushIncomplete(
    terminated: AstmTermination,
    reason: ProtocolError,
    always = false,
  ): void {
    const message = this.assembler.flush(terminated, reason, this.clock.now());
    if (message || always) this.queueEvent({ type: 'error', error: reason });
    if (message) this.queueEvent({ type: 'incomplete', message });
  }

  private armReceiverTimer(): void {
    this.lineTimer.arm(this.timeouts.receiverMs, () => {
      const reason = protocolError(
        'ASTM_RECEIVER_TIMEOUT',
        `no frame or EOT for ${seconds(this.timeouts.receiverMs)} after our last reply; line back to neutral`,
      );
      this.scanner.reset();
      this.setState('neutral');
      this.flushIncomplete('timeout', reason, true);
      this.startSending();
      this.run();
    });
  }

  // ── sending ───────────────────────────────────────────────────────────────

  /** Sends ENQ for the next queued message if the line and the hold-off timers allow it. */
  private startSending(): void {
    if (this.line !== 'neutral' || this.holdOff !== null || this.queue.length === 0) return;
    if (this.items) return; // run() calls again at the end of the chunk, after any ENQ in it
    this.setState('establishing');
    this.lineTimer.arm(this.timeouts.replyMs, () => this.onReplyTimeout());
    this.queueEvent(SEND_ENQ);
  }

  private onEstablishing(item: LineItem): void {
    if (item.kind !== 'control') return; // everything but ACK, NAK and ENQ is ignored [6.2]
    if (item.byte === ACK) {
      this.setState('sending');
      this.frameIndex = 0;
      this.transmissions = 0;
      this.sendFrame();
    } else if (item.byte === NAK) {
      this.lineTimer.disarm();
      this.setState('neutral');
      this.report(
        'ASTM_BUSY',
        `receiver answered NAK to ENQ (busy); next ENQ in ${seconds(this.timeouts.busyRetryMs)}`,
      );
      this.startHoldOff('busy', this.timeouts.busyRetryMs);
    } else if (item.byte === ENQ) {
      this.lineTimer.disarm();
      this.setState('neutral');
      if (this.role === 'host') {
        this.report(
          'ASTM_CONTENTION',
          `both sides sent ENQ; the instrument goes first, waiting up to ${seconds(this.timeouts.hostContentionMs)} for its next ENQ`,
        );
        this.startHoldOff('contention', this.timeouts.hostContentionMs);
      } else {
        this.report(
          'ASTM_CONTENTION',
          `both sides sent ENQ; the instrument goes first, ENQ again in ${seconds(this.timeouts.instrumentContentionMs)}`,
        );
        this.startHoldOff('contention', this.timeouts.instrumentContentionMs);
      }
    }
  }

  private onSending(item: LineItem): void {
    const message = this.queue[0]!;
    const frame = message.frames[this.frameIndex]!;
    if (item.kind === 'control' && item.byte === ACK) {
      this.frameIndex++;
      if (this.frameIndex < message.frames.length) {
        this.transmissions = 0;
        this.sendFrame();
      } else {
        this.finish(message, false);
      }
      return;
    }
    if (item.kind === 'control' && item.byte === EOT) {
      const last = this.frameIndex === message.frames.length - 1;
      const hold = seconds(this.timeouts.interruptHoldMs);
      if (last) {
        this.report(
          'ASTM_INTERRUPTED',
          `receiver answered the last frame with EOT (interrupt); message ${message.id} delivered, no ENQ for ${hold}`,
        );
        this.finish(message, true);
      } else {
        this.giveUp(
          protocolError(
            'ASTM_INTERRUPTED',
            `receiver asked to stop (EOT) at frame ${frame.number}, ${this.frameIndex + 1} of ${message.frames.length}; EOT sent, message ${message.id} will be sent again from its start, no ENQ for ${hold}`,
          ),
          'interrupt',
          this.timeouts.interruptHoldMs,
        );
      }
      return;
    }
    // Anything else counts as NAK.
    const reply =
      item.kind === 'control'
        ? controlName(item.byte)
        : item.kind === 'frame'
          ? 'a frame'
          : 'a broken frame';
    if (this.transmissions >= this.maxTransmissions) {
      this.giveUp(
        protocolError(
          'ASTM_RETRIES_EXHAUSTED',
          `frame ${frame.number} refused ${this.transmissions} times (last reply ${reply}); EOT sent, message ${message.id} will be sent again from its start in ${seconds(this.timeouts.failedRetryMs)}`,
        ),
        'failed',
        this.timeouts.failedRetryMs,
      );
      return;
    }
    this.report(
      item.kind === 'control' && item.byte === NAK ? 'ASTM_FRAME_REJECTED' : 'ASTM_UNEXPECTED_BYTE',
      `frame ${frame.number} answered ${reply} instead of ACK; sending it again (transmission ${this.transmissions + 1} of ${this.maxTransmissions})`,
    );
    this.sendFrame();
  }

  private sendFrame(): void {
    const frame = this.queue[0]!.frames[this.frameIndex]!;
    this.transmissions++;
    this.lineTimer.arm(this.timeouts.replyMs, () => this.onReplyTimeout());
    this.queueEvent({ type: 'send', bytes: frame.bytes });
  }

  private onReplyTimeout(): void {
    const message = this.queue[0]!;
    const waitedFor =
      this.line === 'establishing' ? 'ENQ' : `frame ${message.frames[this.frameIndex]!.number}`;
    this.giveUp(
      protocolError(
        'ASTM_SENDER_TIMEOUT',
        `no reply to ${waitedFor} within ${seconds(this.timeouts.replyMs)}; EOT sent, message ${message.id} will be sent again from its start in ${seconds(this.timeouts.failedRetryMs)}`,
      ),
      'failed',
      this.timeouts.failedRetryMs,
    );
    this.run();
  }

  /** The last frame was accepted: end the session and go on with the next message. */
  private finish(message: Outbound, interrupted: boolean): void {
    this.lineTimer.disarm();
    this.queue.shift();
    this.setState('neutral');
    this.queueEvent(SEND_EOT);
    this.queueEvent({ type: 'delivered', id: message.id });
    if (interrupted) this.startHoldOff('interrupt', this.timeouts.interruptHoldMs);
    else this.startSending();
  }

  /** Ends this attempt with EOT; the message stays first in the queue for a full retry. */
  private giveUp(problem: ProtocolError, holdOff: HoldOff, ms: number): void {
    const message = this.queue[0]!;
    this.lineTimer.disarm();
    this.setState('neutral');
    this.queueEvent(SEND_EOT);
    this.queueEvent({ type: 'error', error: problem });
    this.queueEvent({ type: 'deliveryFailed', id: message.id, error: problem, willRetry: true });
    this.startHoldOff(holdOff, ms);
  }

  private fail(id: string, problem: ProtocolError): void {
    this.queueEvent({ type: 'error', error: problem });
    this.queueEvent({ type: 'deliveryFailed', id, error: problem, willRetry: false });
  }

  private startHoldOff(kind: HoldOff, ms: number): void {
    this.holdOff = kind;
    this.holdTimer.arm(ms, () => {
      this.holdOff = null;
      this.startSending();
      this.run();
    });
  }

  private endHoldOff(): void {
    this.holdOff = null;
    this.holdTimer.disarm();
  }

  // ── events ────────────────────────────────────────────────────────────────

  private setState(state: AstmLineState): void {
    if (this.line === state) return;
    this.line = state;
    this.queueEvent({ type: 'state', state });
  }

  private report(code: ProtocolErrorCode, message: string): void {
    this.queueEvent({ type: 'error', error: protocolError(code, message) });
  }

  private queueEvent(event: AstmEvent): void {
    this.events.push(event);
  }

  /**
   * Does the pending work: delivers queued events, then handles the next received item, and so
   * on. Calls made from inside the listener only queue work for this loop.
   */
  private run(): void {
    if (this.running) return;
    this.running = true;
    try {
      for (;;) {
        const event = this.events.shift();
        if (event !== undefined) {
          this.onEvent(event);
          continue;
        }
        if (this.line === 'closed') {
          this.inbox.length = 0;
          this.items = null;
          return;
        }
        if (this.items === null) {
          const chunk = this.inbox.shift();
          if (chunk === undefined) return;
          this.items = this.scanner.push(chunk);
        }
        const next = this.items.next();
        if (next.done) {
          this.items = null;
          this.startSending(); // only now: an ENQ in the same chunk has been answered first
        } else {
          this.handle(next.value);
        }
      }
    } finally {
      this.running = false;
    }
  }
}

function frameName(frame: ReceivedFrame): string {
  return frame.number === null ? 'a frame' : `frame ${frame.number}`;
}

function sameChecksum(received: string, expected: string): boolean {
  return received === expected || received.toUpperCase() === expected;
}

/** Checksum characters as a technician can read them, control bytes named. */
function printable(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    out += code > 0x20 && code < 0x7f ? text[i] : `<${controlName(code)}>`;
  }
  return out;
}

function describeByte(byte: number | undefined): string {
  if (byte === undefined) return 'missing';
  return byte > 0x20 && byte < 0x7f ? `"${String.fromCharCode(byte)}"` : controlName(byte);
}

function seconds(ms: number): string {
  return `${ms / 1000} s`;
}

function findRestricted(records: readonly Uint8Array[]): { record: number; byte: number } | null {
  for (let r = 0; r < records.length; r++) {
    const record = records[r]!;
    for (let i = 0; i < record.length; i++) {
      if (isRestricted(record[i]!)) return { record: r, byte: record[i]! };
    }
  }
  return null;
}
