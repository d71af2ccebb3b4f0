/**
 * An order source: an MLLP listener a LIS sends its orders to. It uses the same server link as
 * instruments (allowed peers, connection limit, keepalive, buffer limits, status). Each order
 * message is stored, and its orders committed, before it is acknowledged: AA once they are;
 * AE/AR with an ERR in plain words for what cannot be read or stored. A bad message never ends
 * the connection.
 */
import type { OrderSourceConfig } from '../../src-shared/config';
import { createServerLink, type ListenFactory, type ServerLink } from '../links/server-link';
import type { ConnectionHandler, LinkConnection, LinkEvent, LinkStatus } from '../links/types';
import type { Clock } from '../protocols/clock';
import { decideAcks, type AckOutcome } from '../protocols/hl7/ack';
import { frameMllp, MllpFramer } from '../protocols/hl7/mllp';
import type { Hl7Message } from '../protocols/hl7/message';
import { readHl7Payload } from '../protocols/hl7/payload';
import { encodeHl7Text } from '../protocols/hl7/charset';
import type { MessageSink, OrderStore } from '../store/store';
import type { OrderChangeOutcome } from '../store/orders';
import type { NewMessage } from '../store/types';
import { readOrderMessage } from './hl7-orders';
import { unreadableAck } from './order-ack';

export type OrderLogLevel = 'info' | 'warn' | 'error';

export interface OrderSourceDeps {
  store: Pick<OrderStore, 'applyOrders'> & Pick<MessageSink, 'enqueue'>;
  clock: Clock;
  /** Ids of the gateway's instruments, for MSH-5. */
  instrumentIds: () => ReadonlySet<string>;
  nextControlId: () => string;
  log: (level: OrderLogLevel, code: string | null, message: string) => void;
  /** New or changed orders were committed (push download, counts on the dashboard). */
  ordersChanged: (outcomes: readonly OrderChangeOutcome[]) => void;
  onLinkEvent?: (event: LinkEvent) => void;
  listen?: ListenFactory;
}

export class OrderSource {
  readonly link: ServerLink;
  /** The last thing that went wrong, for the dashboard. */
  lastError: { at: number; code: string; message: string } | null = null;
  /** When the last order message arrived. */
  lastOrderAt: number | null = null;

  constructor(
    readonly config: OrderSourceConfig,
    given: OrderSourceDeps,
  ) {
    const noted = (code: string | null, message: string) => {
      this.lastError = { at: given.clock.now(), code: code ?? 'ORDER_SOURCE', message };
    };
    // The same dependencies, with what the dashboard shows noted on the way.
    const deps: OrderSourceDeps = {
      ...given,
      log: (level, code, message) => {
        if (level !== 'info') noted(code, message);
        given.log(level, code, message);
      },
      ordersChanged: (outcomes) => {
        this.lastOrderAt = given.clock.now();
        given.ordersChanged(outcomes);
      },
    };
    const onLinkEvent = (event: LinkEvent) => {
      if (event.type === 'error' || event.type === 'refused') noted(event.code, event.message);
      given.onLinkEvent?.(event);
    };
    this.link = createServerLink({
      id: config.id,
      host: config.host,
      port: config.port,
      keepAliveMs: config.keepAliveMs,
      idleTimeoutMs: config.idleTimeoutMs,
      maxBufferedBytes: config.maxBufferedBytes,
      maxConnections: config.maxConnections,
      allowedPeers: config.allowedPeers,
      peerName: 'the LIS',
      clock: deps.clock,
      ...(deps.listen ? { listen: deps.listen } : {}),
      handlerFactory: (connection) => new OrderConnectionHandler(connection, config, deps),
      onEvent: onLinkEvent,
    });
  }

  get status(): LinkStatus {
    return this.link.status;
  }

  start(): void {
    this.link.start();
  }

  close(deadlineMs?: number): Promise<void> {
    return this.link.close(deadlineMs);
  }
}

class OrderConnectionHandler implements ConnectionHandler {
  private readonly framer: MllpFramer;
  /** Messages are answered one after the other, in the order they came. */
  private tail: Promise<void> = Promise.resolve();
  private inFlight = 0;

  constructor(
    private readonly connection: LinkConnection,
    private readonly config: OrderSourceConfig,
    private readonly deps: OrderSourceDeps,
  ) {
    this.framer = new MllpFramer({ maxMessageBytes: config.maxMessageBytes });
  }

  get buffered(): number {
    return this.framer.buffered;
  }

  get busy(): boolean {
    return this.inFlight > 0 || this.framer.inBlock;
  }

  onData(chunk: Buffer): void {
    for (const item of this.framer.push(chunk)) {
      if (item.kind === 'message') this.enqueue(item.payload);
      else if (item.kind === 'error') this.deps.log('warn', item.error.code, item.error.message);
    }
  }

  onClose(): void {
    this.framer.reset();
  }

  private enqueue(payload: Buffer): void {
    this.inFlight++;
    this.tail = this.tail
      .then(() => this.answer(payload))
      .then(
        (reply) => {
          this.connection.write(frameMllp(reply));
        },
        (error: unknown) => {
          this.deps.log(
            'error',
            'ORDER_HANDLER_FAILED',
            `an order message failed: ${String(error)}`,
          );
        },
      )
      .finally(() => {
        this.inFlight--;
      });
  }

  /** Stores the message, commits its orders, and returns the ACK to send. */
  private async answer(payload: Buffer): Promise<Buffer> {
    const { clock } = this.deps;
    const decoded = readHl7Payload(payload, { defaultCharset: this.config.encoding });
    const message = decoded.message;
    if (!message) {
      const reason = decoded.errors.at(-1)?.message ?? 'no MSH segment';
      this.deps.log('warn', 'ORDER_UNREADABLE', `an order block was rejected: ${reason}`);
      await this.keep(payload, decoded.text, [], 'error', 'AR', [
        { code: 'ORDER_UNREADABLE', message: reason },
      ]).catch(() => undefined);
      return encodeHl7Text(
        unreadableAck(reason, {
          now: clock.now(),
          utcOffsetMinutes: -new Date(clock.now()).getTimezoneOffset(),
          controlId: this.deps.nextControlId(),
          facility: this.config.id,
        }),
      );
    }
    const reading = readOrderMessage(message, this.deps.instrumentIds(), this.config.id);
    if (!reading.ok) {
      const { problem } = reading;
      this.deps.log(
        'warn',
        problem.reason,
        `order message ${message.msh.controlId}: ${problem.text}`,
      );
      const outcome: AckOutcome =
        problem.kind === 'error'
          ? { kind: 'error', code: problem.code, text: problem.text, ...loc(problem.location) }
          : {
              kind: 'rejected',
              reason: 'unsupported',
              text: problem.text,
              ...loc(problem.location),
            };
      const acks = this.acks(message, outcome);
      await this.keep(payload, decoded.text, [], 'error', ackCodes(acks), [
        { code: problem.reason, message: problem.text },
      ]).catch(() => undefined);
      return Buffer.concat(acks.map((a) => a.payload));
    }
    const samples = reading.changes.map((c) => c.sampleId);
    try {
      const accepted = this.acks(message, { kind: 'accepted' });
      await this.keep(payload, decoded.text, samples, 'stored', ackCodes(accepted), []);
      const outcomes = this.deps.store.applyOrders(reading.changes);
      this.deps.ordersChanged(outcomes);
      for (const [i, outcome] of outcomes.entries()) {
        const change = reading.changes[i]!;
        this.deps.log(
          'info',
          null,
          `order for sample ${change.sampleId} (${change.action}): ${outcome.detail}`,
        );
      }
      return Buffer.concat(accepted.map((a) => a.payload));
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      this.deps.log('error', 'ORDER_NOT_STORED', `orders not stored, answered AR: ${text}`);
      const rejected = this.acks(message, {
        kind: 'rejected',
        reason: 'storage',
        text: `the orders could not be stored; send them again (${text})`,
      });
      return Buffer.concat(rejected.map((a) => a.payload));
    }
  }

  private acks(message: Hl7Message, outcome: AckOutcome) {
    const now = this.deps.clock.now();
    return decideAcks(message, outcome, {
      now,
      utcOffsetMinutes: -new Date(now).getTimezoneOffset(),
      controlId: () => this.deps.nextControlId(),
      application: 'LABGATEWAY',
      facility: this.config.id,
    });
  }

  /** The order message as it crossed the wire, in the history beside the instruments' messages. */
  private async keep(
    payload: Buffer,
    text: string,
    sampleIds: string[],
    status: string,
    ack: string | null,
    errors: { code: string; message: string }[],
  ): Promise<void> {
    const row: NewMessage = {
      instrumentId: this.config.id,
      protocol: 'hl7',
      direction: 'in',
      receivedAt: this.deps.clock.now(),
      controlId: null,
      text: text.replace(/\r$/, ''),
      raw: payload,
      ack,
      status,
      errors,
      results: [],
      sampleIds,
    };
    await this.deps.store.enqueue(row);
  }
}

function ackCodes(acks: readonly { code: string }[]): string | null {
  return acks.map((a) => a.code).join(' ') || null;
}

function loc<T>(location: T | undefined): { location?: T } {
  return location === undefined ? {} : { location };
}
