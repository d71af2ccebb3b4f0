import type { ConnectionHandler, LinkCloseReason, LinkConnection } from '../links/types';
import { decideAcks, type AckOutcome, type Hl7Ack } from '../protocols/hl7/ack';
import type { Hl7Message } from '../protocols/hl7/message';
import { readHl7Payload } from '../protocols/hl7/payload';
import { MLLP_COMMIT_ACK, MLLP_COMMIT_NAK, MllpFramer, frameMllp } from '../protocols/hl7/mllp';
import type { ProtocolError } from '../protocols/errors';
import { Timer } from '../protocols/clock';
import { encodeHl7Text } from '../protocols/hl7/charset';
import { buildQueryResponse } from '../protocols/hl7/query-response';
import { readHl7Message } from '../profiles/read-message';
import type { NewMessage } from '../store/types';
import { dedupeKey, distinct, storageProblem, type InstrumentContext } from './context';
import type { Hl7OrderOut } from './orders-port';

/** How long an order message waits for its ORL^O34 / ACK before it is sent again. */
export const ORDER_ACK_TIMEOUT_MS = 30_000;
/** Sends of one order message before it is given up (the orders stay pending). */
export const ORDER_SEND_TRIES = 3;

interface Outgoing {
  message: Hl7OrderOut;
  /** The stored row of what we send, once it is committed. */
  row: Promise<number | null>;
  tries: number;
  download: boolean;
}

/**
 * One MLLP connection receiving HL7. Each message is committed before its ACK is written; when
 * the commit fails the sender gets AR (CR in enhanced mode) saying storage failed. Messages of one
 * read are committed together, and ACKs go out in the order the messages came in.
 */
export class Hl7ConnectionHandler implements ConnectionHandler {
  private readonly framer: MllpFramer;
  /** ACK writes wait on this chain so they leave in arrival order. */
  private tail: Promise<void> = Promise.resolve();
  private inFlight = 0;
  /** Order messages to the analyzer, one on the line at a time (stop and wait). */
  private readonly outgoing: Outgoing[] = [];
  private current: Outgoing | null = null;
  private readonly replyTimer: Timer;
  /** A worklist download is queued or on the line. */
  private downloading = false;
  /** Some order message of the current download was refused or went unanswered. */
  private downloadFailed = false;
  /** What to do once the answer being written is on the line (orders after an RSP^K11). */
  private afterWrite: (() => void) | null = null;
  private closed = false;
  /** Graceful shutdown: no new order message is started. */
  private stopping = false;

  constructor(
    private readonly connection: LinkConnection,
    private readonly context: InstrumentContext,
  ) {
    this.framer = new MllpFramer({ maxMessageBytes: context.config.maxMessageBytes });
    this.replyTimer = new Timer(context.clock);
  }

  get buffered(): number {
    return this.framer.buffered;
  }

  get busy(): boolean {
    return this.inFlight > 0 || this.framer.inBlock || this.current !== null;
  }

  onData(chunk: Buffer): void {
    for (const item of this.framer.push(chunk)) {
      if (item.kind === 'message') this.receive(item.payload, item.offset);
      else if (item.kind === 'error') {
        this.context.protocolError(item.error, this.connection.id);
        if (item.partial && item.partial.length > 0) this.keepUnreadable(item.partial, item.error);
      }
    }
  }

  onClose(_reason: LinkCloseReason): void {
    const partial = this.framer.inBlock && this.framer.buffered > 0;
    if (partial) {
      this.context.note(
        'warn',
        'MLLP_INCOMPLETE_BLOCK',
        `the connection closed in the middle of a message (${this.framer.buffered} bytes); it was not acknowledged`,
      );
    }
    this.framer.reset();
    this.closed = true;
    this.replyTimer.disarm();
    // Orders not yet answered stay pending; they go again at the next connection.
    const unanswered = [...(this.current ? [this.current] : []), ...this.outgoing];
    this.current = null;
    this.outgoing.length = 0;
    for (const item of unanswered) this.settle(item, { status: 'failed' });
  }

  /** Graceful shutdown: the order message on the line may be answered; no new one starts. */
  shutdown(): void {
    this.stopping = true;
  }

  /**
   * Worklist download to an HL7 analyzer (`orders.download: push`): cancellations and new orders
   * meant for it, one OML^O33 (or ORM^O01) per sample, each waiting for its ORL^O34 or ACK. Orders
   * that arrive meanwhile go in the next download.
   */
  pushOrders(): void {
    if (this.closed || this.stopping || this.downloading) return;
    const orders = this.context.orders;
    if (!orders || this.context.config.orders.download !== 'push') return;
    let messages: Hl7OrderOut[];
    try {
      messages = orders.nextHl7Download(this.context.config, () => this.context.nextControlId());
    } catch (error) {
      this.context.note(
        'error',
        'ORDERS_UNAVAILABLE',
        `orders could not be read: ${String(error)}`,
      );
      return;
    }
    if (messages.length === 0) return;
    this.downloading = true;
    this.downloadFailed = false;
    for (const message of messages) this.queue(message, true);
  }

  private receive(payload: Buffer, offset: number): void {
    const { config, clock } = this.context;
    const decoded = readHl7Payload(payload, { defaultCharset: config.encoding });
    const message = decoded.message;
    if (!message) {
      // Without a readable MSH there is no control ID to acknowledge; keep the bytes anyway.
      const problem = decoded.errors.at(-1) ?? { code: 'HL7_NO_MSH', message: 'no MSH segment' };
      this.context.protocolError(problem as ProtocolError, this.connection.id);
      this.keepUnreadable(payload, problem as ProtocolError, decoded.text);
      return;
    }
    const errors = decoded.errors;
    const { results, notes } = readHl7Message(message, config);
    const msh = message.msh;
    const type = msh.messageType.code.toUpperCase();
    // ACK and ORL^O34 answer our order messages; they are never acknowledged themselves.
    const isAck = type === 'ACK' || type === 'ORL';
    if (isAck) this.onReply(message);
    const isQuery = type === 'QBP' && msh.messageType.trigger.toUpperCase() === 'Q11';
    const row: NewMessage = {
      instrumentId: config.id,
      protocol: 'hl7',
      direction: 'in',
      receivedAt: clock.now(),
      controlId: msh.controlId || null,
      text: message.toString().replace(/\r$/, ''),
      raw: payload,
      ack: null,
      status: errors.length + notes.length > 0 ? 'error' : 'stored',
      // Where the profile did not fit is the gateway's problem, not the sender's: kept with the
      // message, never answered AE.
      errors: [...errors, ...notes],
      results,
      profile: config.profile ?? null,
      sampleIds: distinct(results.map((r) => r.sampleId)),
      patientIds: distinct([...results.map((r) => r.patientId), message.get('PID', 3) || null]),
      dedupeKey: msh.controlId ? dedupeKey(`hl7:${msh.controlId}`, decoded.text) : null,
      exchange: { connectionId: this.connection.id, ranges: [[offset, payload.length]] },
    };
    for (const error of errors) this.context.protocolError(error, this.connection.id);
    for (const note of notes) this.context.note('warn', note.code, note.message);

    // The answer is decided before the commit so the stored row records it. A message with
    // problems is still kept (status "error"), and the sender is told with AE (CE).
    const samples = isQuery && errors.length === 0 ? this.queriedSamples(message) : null;
    const query = samples !== null && samples.length > 0 ? samples : null;
    if (query) row.sampleIds = distinct(query);
    const outcome: AckOutcome =
      samples !== null && samples.length === 0
        ? {
            kind: 'error',
            code: '101',
            text: 'the order query names no specimen ID (QPD-3)',
            location: { segment: 'QPD', field: 3 },
          }
        : outcomeFor(errors);
    if (outcome.kind === 'error' && samples !== null) {
      row.status = 'error';
      row.errors = [...row.errors, { code: 'HL7_QUERY_UNREADABLE', message: outcome.text }];
      this.context.note(
        'warn',
        'HL7_QUERY_UNREADABLE',
        `order query ${msh.controlId}: ${outcome.text}`,
      );
    }
    const accepted = isAck || query ? [] : this.acks(message, outcome);
    row.ack = query ? 'AA' : accepted.map((ack) => ack.code).join(' ') || null;

    this.inFlight++;
    const answer: Promise<Buffer[]> = this.context.persist(row).then(
      (outcome) => {
        this.context.stored(row, outcome);
        if (query) return this.answerQuery(message, query);
        return this.wire(
          accepted.map((a) => a.payload),
          true,
        );
      },
      (error: unknown) => {
        const problem = storageProblem(error);
        this.context.storageFailed(error, 'the sender was answered AR');
        if (isAck) return [];
        const rejected = this.acks(message, {
          kind: 'rejected',
          reason: 'storage',
          text: `not stored, please resend: ${problem.message}`,
        });
        return this.wire(
          rejected.map((a) => a.payload),
          false,
        );
      },
    );
    this.tail = this.tail
      .then(() => answer)
      .then(
        (chunks) => {
          for (const chunk of chunks) this.connection.write(chunk);
          const after = this.afterWrite;
          this.afterWrite = null;
          after?.();
        },
        () => undefined,
      )
      .finally(() => {
        this.inFlight--;
      });
  }

  /** QPD-3 of a QBP^Q11 (IHE LAW: the specimen ID), each repetition. */
  private queriedSamples(message: Hl7Message): string[] {
    const qpd = message.segment('QPD');
    if (!qpd) return [];
    const out: string[] = [];
    for (let r = 1; r <= Math.max(1, qpd.repetitionCount(3)); r++) {
      const id = qpd.value(3, 1, 1, r).trim();
      if (id) out.push(id);
    }
    return out;
  }

  /**
   * LAB-27: RSP^K11 (QAK `OK` when orders follow, `NF` when none), then LAB-28: the orders for
   * the samples as OML^O33 (or ORM^O01), each waiting for its ORL^O34.
   */
  private answerQuery(message: Hl7Message, sampleIds: readonly string[]): Buffer[] {
    let orders: Hl7OrderOut[] = [];
    try {
      orders =
        this.context.orders?.hl7OrdersFor(this.context.config, sampleIds, () =>
          this.context.nextControlId(),
        ) ?? [];
    } catch (error) {
      this.context.note(
        'error',
        'ORDERS_UNAVAILABLE',
        `the orders could not be read, the query is answered "not found": ${String(error)}`,
      );
    }
    const now = this.context.clock.now();
    const response = buildQueryResponse(message, orders.length > 0 ? 'OK' : 'NF', {
      now,
      utcOffsetMinutes: -new Date(now).getTimezoneOffset(),
      controlId: this.context.nextControlId(),
      application: 'LABGATEWAY',
      facility: this.context.config.id,
    });
    // The orders follow the response on the line, once it is written.
    this.afterWrite = () => {
      for (const order of orders) this.queue(order, false);
    };
    return this.wire([encodeHl7Text(response)], true);
  }

  /** Stores an order message (pending until answered) and puts it in line. */
  private queue(message: Hl7OrderOut, download: boolean): void {
    if (this.closed) return;
    const row = this.context
      .persist({
        instrumentId: this.context.config.id,
        protocol: 'hl7',
        direction: 'out',
        receivedAt: this.context.clock.now(),
        controlId: message.controlId,
        text: message.text.replace(/\r$/, ''),
        raw: encodeHl7Text(message.text),
        ack: null,
        status: 'pending',
        errors: [],
        results: [],
        sampleIds: message.sampleIds,
        patientIds: message.patientIds,
      })
      .then(
        (outcome) => outcome.id,
        (error: unknown) => {
          this.context.storageFailed(error, 'an order message is sent without its stored copy');
          return null;
        },
      );
    this.outgoing.push({ message, row, tries: 0, download });
    this.sendNext();
  }

  private sendNext(): void {
    if (this.closed || this.stopping || this.current !== null) return;
    const next = this.outgoing.shift();
    if (!next) {
      if (this.downloading) {
        this.downloading = false;
        // Orders that came meanwhile go now; after a refusal they wait for the next trigger.
        if (!this.downloadFailed) this.pushOrders();
        this.downloadFailed = false;
      }
      return;
    }
    this.current = next;
    this.transmit(next);
  }

  private transmit(item: Outgoing): void {
    item.tries++;
    this.connection.write(frameMllp(encodeHl7Text(item.message.text)));
    this.replyTimer.arm(ORDER_ACK_TIMEOUT_MS, () => this.onTimeout(item));
  }

  private onTimeout(item: Outgoing): void {
    if (this.current !== item) return;
    const sample = item.message.sampleIds.join(', ');
    if (item.tries < ORDER_SEND_TRIES) {
      this.context.note(
        'warn',
        'ORDER_NO_REPLY',
        `no answer to the orders for sample ${sample} after ${ORDER_ACK_TIMEOUT_MS / 1000} s; sending them again`,
      );
      this.transmit(item);
      return;
    }
    this.context.note(
      'warn',
      'ORDER_NO_REPLY',
      `no answer to the orders for sample ${sample} after ${item.tries} tries; they stay pending and go again at the next connection`,
    );
    this.current = null;
    // The rest of the download waits too, so an analyzer that does not answer is not flooded.
    const dropped = this.outgoing.splice(0);
    this.downloading = false;
    for (const other of [item, ...dropped]) this.settle(other, { status: 'failed' });
  }

  /** An ACK or ORL^O34: the answer to the order message on the line, when MSA-2 names it. */
  private onReply(reply: Hl7Message): void {
    const item = this.current;
    const answered = reply.get('MSA', 2).trim();
    if (!item || answered !== item.message.controlId) return;
    this.replyTimer.disarm();
    this.current = null;
    const code = reply.get('MSA', 1).trim().toUpperCase();
    const sample = item.message.sampleIds.join(', ');
    if (code === 'AA' || code === 'CA') {
      this.settle(item, { status: 'sent', ack: code }).then(
        () => this.sendNext(),
        () => this.sendNext(),
      );
      return;
    }
    const text = reply.get('ERR', 3, 2).trim() || reply.get('MSA', 3).trim() || 'no reason given';
    this.context.note(
      'warn',
      'ORDER_REFUSED',
      `the analyzer answered ${code || 'without a code'} to the orders for sample ${sample}: ${text}; they stay pending`,
    );
    if (item.download) this.downloadFailed = true;
    this.settle(item, { status: 'failed', ack: code || null }).then(
      () => this.sendNext(),
      () => this.sendNext(),
    );
  }

  /** Records what became of an order message; its orders count as sent once it was taken. */
  private settle(item: Outgoing, change: { status: string; ack?: string | null }): Promise<void> {
    return item.row.then((rowId) => {
      if (rowId !== null) this.context.updateOutcome(rowId, change);
      const { orderIds, cancelledIds } = item.message;
      if (change.status === 'sent' && orderIds.length + cancelledIds.length > 0) {
        this.context.ordersSent(orderIds, rowId, cancelledIds);
      }
    });
  }

  private acks(message: Hl7Message, outcome: AckOutcome): Hl7Ack[] {
    return decideAcks(message, outcome, {
      now: this.context.clock.now(),
      utcOffsetMinutes: -new Date(this.context.clock.now()).getTimezoneOffset(),
      controlId: () => this.context.nextControlId(),
      application: 'LABGATEWAY',
      facility: this.context.config.id,
    });
  }

  private wire(payloads: readonly Buffer[], stored: boolean): Buffer[] {
    const chunks = payloads.map((payload) => frameMllp(payload));
    if (this.context.config.hl7.mllpCommitAck) {
      chunks.unshift(stored ? MLLP_COMMIT_ACK : MLLP_COMMIT_NAK);
    }
    return chunks;
  }

  /** Bytes that could not be read as HL7 are still kept, with the reason, never dropped. */
  private keepUnreadable(payload: Buffer, problem: ProtocolError, text?: string): void {
    const { config, clock } = this.context;
    const row: NewMessage = {
      instrumentId: config.id,
      protocol: 'hl7',
      direction: 'in',
      receivedAt: clock.now(),
      controlId: null,
      text: text ?? payload.toString('latin1'),
      raw: payload,
      ack: null,
      status: 'error',
      errors: [{ code: problem.code, message: problem.message }],
      results: [],
    };
    this.context.persist(row).then(
      (outcome) => this.context.stored(row, outcome),
      (error: unknown) => this.context.storageFailed(error, 'an unreadable message was lost'),
    );
  }
}

/** HL7 table 0357 code for a problem found in a message. */
function errorCodeFor(code: string): '100' | '102' | '207' {
  if (code === 'HL7_BAD_SEGMENT') return '100';
  if (code === 'HL7_BAD_ENCODING' || code === 'HL7_BAD_MSH') return '102';
  return '207';
}

function outcomeFor(errors: readonly ProtocolError[]): AckOutcome {
  const unsupported = errors.find((e) => e.code === 'HL7_UNSUPPORTED_CHARSET');
  if (unsupported) {
    return { kind: 'rejected', reason: 'unsupported-charset', text: unsupported.message };
  }
  const first = errors[0];
  if (!first) return { kind: 'accepted' };
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more problems)` : '';
  return { kind: 'error', code: errorCodeFor(first.code), text: `${first.message}${more}` };
}
