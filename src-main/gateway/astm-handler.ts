import type { ConnectionHandler, LinkCloseReason, LinkConnection } from '../links/types';
import { decodeMessages, encodeNoInformation, recordsToBytes } from '../protocols/astm/message';
import { AstmSession, type AstmEvent, type AstmInboundMessage } from '../protocols/astm/session';
import { readAstmHostQueries, type HostQuery } from '../profiles/read-message';
import type { NewMessage } from '../store/types';
import { astmMessageRow } from './astm-rows';
import type { InstrumentContext } from './context';
import type { HostQueryAnswer } from './orders-port';

/**
 * One ASTM E1381 connection on the host (LIS) side. The frame that completes a message is
 * acknowledged only after the message is committed; if the commit fails that frame is NAKed and
 * the analyzer retransmits it, so nothing is acknowledged that was not stored.
 */
export class AstmConnectionHandler implements ConnectionHandler {
  private readonly session: AstmSession;
  private inFlight = 0;
  private answers = 0;
  /** How many Q records each row built by toNewMessage carries. */
  private readonly queryCounts = new WeakMap<NewMessage, number>();
  /** Stored rows of answers still being delivered, by session message ID. */
  private readonly outbound = new Map<string, Promise<number | null>>();
  /** Orders (and cancellations) carried by answers still being delivered, by session message ID. */
  private readonly sentOrders = new Map<
    string,
    { orderIds: readonly number[]; cancelledIds: readonly number[] }
  >();
  /** The session ID of the worklist download under way, if any. */
  private download: string | null = null;

  constructor(
    private readonly connection: LinkConnection,
    private readonly context: InstrumentContext,
  ) {
    const { astm } = context.config;
    this.session = new AstmSession({
      clock: context.clock,
      role: 'host',
      maxFrameText: astm.maxFrameText,
      // The session refuses (NAKs) a message growing past this, so its memory stays bounded.
      maxMessageText: context.config.maxMessageBytes,
      sendFrameText: astm.frameSize,
      onEvent: (event) => this.onEvent(event),
    });
  }

  /** The session bounds what it holds itself (maxMessageText); nothing else is kept here. */
  get buffered(): number {
    return 0;
  }

  get busy(): boolean {
    const state = this.session.state;
    return this.inFlight > 0 || state === 'receiving' || state === 'sending';
  }

  onData(chunk: Buffer): void {
    this.session.receive(chunk);
  }

  onClose(_reason: LinkCloseReason): void {
    this.session.close();
  }

  shutdown(): void {
    // New sessions are refused with NAK; one already under way may finish before the deadline.
    this.session.busy = true;
  }

  private onEvent(event: AstmEvent): void {
    switch (event.type) {
      case 'send':
        this.connection.write(event.bytes);
        break;
      case 'messages':
        this.persistThenSettle(event.messages);
        break;
      case 'incomplete':
        // Kept with its error so a technician can see what arrived; nothing to acknowledge.
        void this.persist(this.toNewMessage(event.message, 'incomplete')).catch(() => undefined);
        break;
      case 'error':
        this.context.protocolError(event.error, this.connection.id);
        break;
      case 'delivered':
        this.settleOutbound(event.id, { status: 'sent', ack: 'ACK' });
        break;
      case 'deliveryFailed':
        this.context.note(
          'warn',
          event.error.code,
          `${event.id.includes(':download:') ? 'orders' : 'answer'} not delivered${event.willRetry ? ' yet; it will be sent again' : ''}: ${event.error.message}`,
        );
        if (!event.willRetry) this.settleOutbound(event.id, { status: 'failed' });
        break;
      default:
        break;
    }
  }

  private persistThenSettle(messages: AstmInboundMessage[]): void {
    const rows = messages.map((m) => this.toNewMessage(m, 'stored'));
    // Decoded once for storage; only messages carrying a host query are looked at again.
    const queries = rows.filter((row) => this.queryCounts.get(row)! > 0);
    this.inFlight++;
    Promise.all(rows.map((row) => this.persist(row))).then(
      () => {
        this.inFlight--;
        this.session.settle(true);
        for (const row of queries) this.answerQueries(row);
      },
      (error: unknown) => {
        this.inFlight--;
        this.context.storageFailed(error, 'the frame completing the message was answered NAK');
        this.session.settle(false);
      },
    );
  }

  /**
   * Worklist download: the orders meant for this instrument go out in one session of our own,
   * one download at a time; the session retries it after NAK, EOT or a busy instrument as the
   * transport says. Orders that arrive meanwhile go in the next one.
   */
  pushOrders(): void {
    if (this.download !== null || this.session.state === 'closed') return;
    const orders = this.context.orders;
    if (!orders || this.context.config.orders.download !== 'push') return;
    let download;
    try {
      download = orders.nextDownload(this.context.config);
    } catch (error) {
      this.context.note(
        'error',
        'ORDERS_UNAVAILABLE',
        `orders could not be read: ${String(error)}`,
      );
      return;
    }
    if (!download) return;
    this.download = this.sendAnswer(null, download, 'download');
  }

  private settleOutbound(id: string, change: { status: string; ack?: string }): void {
    const download = id === this.download;
    const row = this.outbound.get(id) ?? Promise.resolve(null);
    const carried = this.sentOrders.get(id) ?? { orderIds: [], cancelledIds: [] };
    this.outbound.delete(id);
    this.sentOrders.delete(id);
    void row.then((rowId) => {
      if (rowId !== null) this.context.updateOutcome(rowId, change);
      // An order is sent once the instrument took the whole answer, not when it was queued.
      const { orderIds, cancelledIds } = carried;
      if (change.status === 'sent' && orderIds.length + cancelledIds.length > 0) {
        this.context.ordersSent(orderIds, rowId, cancelledIds);
      }
      // The next download is built only after these orders are marked sent, so none goes twice.
      if (download) {
        this.download = null;
        if (change.status === 'sent') this.pushOrders();
      }
    });
  }

  private async persist(row: NewMessage): Promise<number> {
    try {
      const outcome = await this.context.persist(row);
      this.context.stored(row, outcome);
      return outcome.id;
    } catch (error) {
      if (row.status === 'incomplete')
        this.context.storageFailed(error, 'an incomplete message was lost');
      throw error;
    }
  }

  private toNewMessage(message: AstmInboundMessage, status: 'stored' | 'incomplete'): NewMessage {
    const exchange = { connectionId: this.connection.id, ranges: message.ranges };
    const { row, queries } = astmMessageRow(
      this.context,
      { ...message, exchange },
      { status, ack: 'ACK' },
    );
    this.queryCounts.set(row, queries);
    return row;
  }

  /**
   * A host query (Q record) gets an answer in a session of our own: the open orders for the
   * samples it names, or "no information" (`L|1|I`) when there are none, so that the analyzer
   * goes on instead of waiting. Without an order side every answer is "no information".
   */
  private answerQueries(query: NewMessage): void {
    const decoded = decodeMessages(query.text);
    for (const message of decoded) {
      if (message.queries.length === 0) continue;
      // Where the instrument's profile says; its notes were logged when the query was stored.
      const { queries } = readAstmHostQueries([message], this.context.config);
      const answer = this.answerFor(queries);
      if (answer === null) continue;
      this.sendAnswer(query, answer);
    }
  }

  private answerFor(queries: readonly HostQuery[]): HostQueryAnswer | null {
    const orders = this.context.orders;
    if (orders) {
      try {
        return orders.answerHostQuery(this.context.config, queries);
      } catch (error) {
        this.context.note(
          'error',
          'ORDERS_UNAVAILABLE',
          `the orders could not be read, the query is answered "no information": ${String(error)}`,
        );
      }
    }
    const records = encodeNoInformation({ processingId: 'P', version: 'LIS2-A2' });
    return { records, orderIds: [], sampleIds: [], patientIds: [] };
  }

  /** Stores what we send (pending until delivered) and queues it; returns its session ID. */
  private sendAnswer(
    query: NewMessage | null,
    answer: HostQueryAnswer & { cancelledIds?: readonly number[] },
    kind: 'answer' | 'download' = 'answer',
  ): string {
    const { records } = answer;
    const id = `${this.connection.id}:${kind}:${++this.answers}`;
    const bytes = recordsToBytes(records, this.context.config.encoding);
    const stored = this.persist({
      instrumentId: this.context.config.id,
      protocol: 'astm',
      direction: 'out',
      receivedAt: this.context.clock.now(),
      controlId: null,
      text: records.join('\r'),
      raw: Buffer.concat(bytes.map((b) => Buffer.concat([b, Buffer.of(0x0d)]))),
      ack: null,
      status: 'pending',
      errors: [],
      results: [],
      sampleIds: answer.sampleIds.length > 0 ? answer.sampleIds : (query?.sampleIds ?? []),
      patientIds: answer.patientIds.length > 0 ? answer.patientIds : (query?.patientIds ?? []),
    }).catch(() => null);
    this.outbound.set(id, stored);
    const cancelledIds = answer.cancelledIds ?? [];
    if (answer.orderIds.length + cancelledIds.length > 0) {
      this.sentOrders.set(id, { orderIds: answer.orderIds, cancelledIds });
    }
    this.session.send(bytes, id);
    return id;
  }
}
