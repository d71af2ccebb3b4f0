import type { InstrumentConfig, InstrumentSource } from '../../src-shared/config';
import type { InstrumentStatus } from '../../src-shared/status';
import type { StoredResult } from '../../src-shared/results';
import { createInstrumentLink } from '../links/instrument-link';
import type { ConnectFactory } from '../links/client-link';
import type { SerialPorts } from '../links/serial-stream';
import type { ListenFactory } from '../links/server-link';
import { formatDuration } from '../links/words';
import type { ConnectionHandler, LinkConnection, LinkEvent } from '../links/types';
import type { Clock } from '../protocols/clock';
import type { ProtocolError } from '../protocols/errors';
import type { GatewayStore } from '../store/store';
import type { InsertOutcome, NewMessage } from '../store/types';
import { forwardingTargets } from '../profiles/forwarding';
import { describeKeys, planChange, type ChangePlan } from '../../src-shared/config-effects';
import { systemClock } from '../system-clock';
import { AstmConnectionHandler } from './astm-handler';
import { AstmRawConnectionHandler } from './astm-raw-handler';
import { storageProblem, type InstrumentContext } from './context';
import type { GatewayEvent, GatewayListener, LogEntry, LogLevel } from './events';
import { Hl7ConnectionHandler } from './hl7-handler';
import { InstrumentRuntime } from './instrument';
import type { InstrumentOrders } from './orders-port';
import { Scheduler, type Job, type Schedule } from './scheduler';

const DAY_MS = 24 * 3600_000;

export interface GatewayOptions {
  store: GatewayStore;
  clock?: Clock;
  /** Jitter source for reconnect delays. */
  random?: () => number;
  /** Socket factories, for tests. */
  listen?: ListenFactory;
  connect?: ConnectFactory;
  /** The machine's serial ports, for tests. */
  serialPorts?: SerialPorts;
  retention?: { messagesDays: number; traceDays: number };
  /** How often the retention purge runs; default hourly. */
  purgeEveryMs?: number;
  /** How often silence alarms are checked; default every 15 s. */
  silenceCheckEveryMs?: number;
  /** Keep a trace of every chunk in and out (default true). */
  trace?: boolean;
  /** The order side: host query answers, worklist downloads, tracking of results. */
  orders?: InstrumentOrders;
}

/**
 * The composition of one link and protocol handler per enabled instrument, the store and the
 * scheduled jobs. Everything with a lifetime ends in `close()`.
 */
export class Gateway {
  private readonly store: GatewayStore;
  private readonly clock: Clock;
  private readonly options: GatewayOptions;
  private readonly instruments = new Map<string, InstrumentRuntime>();
  private readonly listeners = new Set<GatewayListener>();
  private readonly scheduler: Scheduler;
  private controlSeq = 0;
  /** Open connections per instrument, for worklist downloads. */
  private readonly downloaders = new Map<string, Set<{ pushOrders(): void }>>();
  private closing: Promise<void> | null = null;

  constructor(options: GatewayOptions) {
    this.options = options;
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.scheduler = new Scheduler(this.clock, (job, error) =>
      this.log(
        null,
        'error',
        'job',
        'JOB_FAILED',
        `scheduled job "${job}" failed: ${String(error)}`,
      ),
    );
    this.scheduler.add(
      { name: 'retention purge', run: () => this.purgeOnce() },
      { every: options.purgeEveryMs ?? 3600_000, firstInMs: 60_000 },
    );
    this.scheduler.add(
      { name: 'silence alarms', run: () => this.checkSilence() },
      { every: options.silenceCheckEveryMs ?? 15_000 },
    );
    this.scheduler.add(
      { name: 'counter roll-over', run: () => this.rollOver() },
      { dailyAtMidnight: true },
    );
    // Failed messages are reported by their instrument; this covers the log and the trace.
    this.store.onWriteError((failure) => {
      if (failure.messages > 0) return;
      const lost = `${failure.events} log lines and ${failure.trace} trace entries`;
      // Nothing lost: housekeeping such as a checkpoint failed, and the message says what.
      const nothingLost = failure.events === 0 && failure.trace === 0;
      this.listenersOnly(
        null,
        'error',
        'storage',
        failure.error.code,
        nothingLost ? failure.error.message : `could not save ${lost}: ${failure.error.message}`,
      );
    });
  }

  /** A periodic job of another part (order expiry), on the gateway's clock and error log. */
  schedule(job: Job, schedule: Schedule): void {
    this.scheduler.add(job, schedule);
  }

  /** The settings of every instrument, running or not. */
  configs(): InstrumentConfig[] {
    return [...this.instruments.values()].map((runtime) => runtime.config);
  }

  /** Events as they happen; returns the unsubscribe function. */
  subscribe(listener: GatewayListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts every instrument of the list (disabled ones are shown, not started). */
  start(instruments: readonly InstrumentConfig[], source: InstrumentSource = 'app'): void {
    for (const config of instruments) this.addInstrument(config, source);
  }

  statuses(): InstrumentStatus[] {
    return [...this.instruments.values()].map((runtime) => runtime.status());
  }

  status(id: string): InstrumentStatus | null {
    return this.instruments.get(id)?.status() ?? null;
  }

  config(id: string): InstrumentConfig | null {
    return this.instruments.get(id)?.config ?? null;
  }

  /** Where the instrument's settings live; null for an unknown id. */
  source(id: string): InstrumentSource | null {
    return this.instruments.get(id)?.source ?? null;
  }

  /** `source` says where its settings live: the configuration file or the application. */
  addInstrument(config: InstrumentConfig, source: InstrumentSource = 'app'): void {
    if (this.closing) throw new Error('the gateway is shutting down');
    if (this.instruments.has(config.id)) {
      throw new Error(`an instrument with the id "${config.id}" already exists`);
    }
    const runtime = new InstrumentRuntime(config, source, this.clock.now());
    this.instruments.set(config.id, runtime);
    this.store.upsertInstrument(config.id, config, source);
    if (config.enabled) this.startLink(runtime);
    this.emitStatus(runtime);
  }

  /**
   * Applies a changed configuration. Settings read per message (name, alarms, mapping, profile,
   * QC, forwarding) apply at once and the analyzer stays connected; settings of the connection
   * itself restart only this instrument's link, after a message in flight has finished.
   */
  async updateInstrument(config: InstrumentConfig): Promise<ChangePlan> {
    const runtime = this.require(config.id);
    const plan = planChange(runtime.config, config);
    if (plan.changed.length === 0) return plan;
    if (plan.reconnect.length === 0) {
      runtime.config = config;
      this.store.upsertInstrument(config.id, config, runtime.source);
      if (!config.silence) runtime.silent = false;
      this.log(
        config.id,
        'info',
        'config',
        null,
        `settings changed (${describeKeys(plan.changed)}); applied without reconnecting`,
      );
      this.emitStatus(runtime);
      return plan;
    }
    await this.stopLink(runtime);
    runtime.config = config;
    this.store.upsertInstrument(config.id, config, runtime.source);
    if (config.enabled) this.startLink(runtime);
    else runtime.markDisabled(this.clock.now());
    this.log(
      config.id,
      'info',
      'config',
      null,
      plan.reconnect.length === 1 && plan.reconnect[0] === 'enabled'
        ? config.enabled
          ? 'enabled'
          : 'disabled'
        : `settings changed (${describeKeys(plan.changed)}); the link was restarted for the ${describeKeys(plan.reconnect)}`,
    );
    this.emitStatus(runtime);
    return plan;
  }

  async setEnabled(id: string, enabled: boolean): Promise<void> {
    const runtime = this.require(id);
    if (runtime.config.enabled === enabled) return;
    await this.updateInstrument({ ...runtime.config, enabled });
  }

  async removeInstrument(id: string): Promise<void> {
    const runtime = this.require(id);
    await this.stopLink(runtime);
    this.instruments.delete(id);
    this.store.deleteInstrument(id);
    this.log(id, 'info', 'config', null, 'instrument removed');
    this.emit({ type: 'instrumentRemoved', id });
  }

  /** Drops the current connection if any and connects (or listens) again now. */
  reconnect(id: string): void {
    const runtime = this.require(id);
    this.log(id, 'info', 'user-action', null, 'reconnect requested');
    if (!runtime.link) {
      if (!runtime.config.enabled) throw new Error(`"${id}" is disabled; enable it first`);
      this.startLink(runtime);
    } else {
      runtime.link.reconnect();
    }
  }

  /**
   * Someone has seen the card's last error and silence alarm: both are cleared, and the event log
   * says what was acknowledged. A silence is counted again from now.
   */
  acknowledgeAlarms(id: string): void {
    const runtime = this.require(id);
    const cleared = [
      ...(runtime.lastError ? [`last error ${runtime.lastError.code}`] : []),
      ...(runtime.silent ? ['silence alarm'] : []),
    ];
    runtime.lastError = null;
    runtime.silent = false;
    runtime.silenceAckedAt = this.clock.now();
    this.log(
      id,
      'info',
      'user-action',
      null,
      cleared.length > 0
        ? `acknowledged: ${cleared.join(' and ')}`
        : 'acknowledged: nothing was raised',
    );
    this.emitStatus(runtime);
  }

  /** Closes the link; it stays down until reconnect. */
  disconnect(id: string): void {
    const runtime = this.require(id);
    this.log(id, 'info', 'user-action', null, 'disconnect requested');
    runtime.link?.disconnect();
  }

  /**
   * Stops accepting, lets messages in flight finish up to `deadlineMs`, ends the sessions,
   * flushes and closes the store.
   */
  close(deadlineMs = 5_000): Promise<void> {
    this.closing ??= (async () => {
      this.scheduler.close();
      await Promise.all([...this.instruments.values()].map((r) => this.stopLink(r, deadlineMs)));
      this.store.close();
    })();
    return this.closing;
  }

  private require(id: string): InstrumentRuntime {
    const runtime = this.instruments.get(id);
    if (!runtime) throw new Error(`no instrument with the id "${id}"`);
    return runtime;
  }

  private startLink(runtime: InstrumentRuntime): void {
    const { config } = runtime;
    const context = this.contextFor(runtime);
    const link = createInstrumentLink(config, {
      clock: this.clock,
      ...(this.options.random ? { random: this.options.random } : {}),
      ...(this.options.listen ? { listen: this.options.listen } : {}),
      ...(this.options.connect ? { connect: this.options.connect } : {}),
      ...(this.options.serialPorts ? { serialPorts: this.options.serialPorts } : {}),
      handlerFactory: (connection) => this.handlerFor(connection, context),
      onEvent: (event) => this.onLinkEvent(runtime, event),
    });
    runtime.link = link;
    runtime.startedAt = this.clock.now();
    link.start();
  }

  private async stopLink(runtime: InstrumentRuntime, deadlineMs = 5_000): Promise<void> {
    const link = runtime.link;
    if (!link) return;
    await link.close(deadlineMs);
    if (runtime.link === link) runtime.link = null;
    runtime.markDisabled(this.clock.now());
  }

  private handlerFor(connection: LinkConnection, context: InstrumentContext): ConnectionHandler {
    if (context.config.protocol === 'astm' && context.config.astm.framing === 'raw')
      return new AstmRawConnectionHandler(connection, context);
    const handler =
      context.config.protocol === 'astm'
        ? new AstmConnectionHandler(connection, context)
        : new Hl7ConnectionHandler(connection, context);
    const id = context.config.id;
    const set = this.downloaders.get(id) ?? new Set<{ pushOrders(): void }>();
    this.downloaders.set(id, set);
    set.add(handler);
    // Orders waiting for this instrument go out as soon as it connects.
    queueMicrotask(() => handler.pushOrders());
    return {
      get buffered() {
        return handler.buffered;
      },
      get busy() {
        return handler.busy;
      },
      onData: (chunk) => handler.onData(chunk),
      onClose: (reason) => {
        set.delete(handler);
        handler.onClose(reason);
      },
      shutdown: () => handler.shutdown?.(),
    };
  }

  /** New orders were stored: instruments that take pushed worklists get them now. */
  ordersArrived(): void {
    for (const handlers of this.downloaders.values()) {
      for (const handler of handlers) handler.pushOrders();
    }
  }

  private contextFor(runtime: InstrumentRuntime): InstrumentContext {
    const id = runtime.config.id;
    return {
      // Read per message, so live settings apply without a new connection.
      get config() {
        return runtime.config;
      },
      clock: this.clock,
      persist: (message: NewMessage) => this.store.enqueue(withOutbox(message, runtime.config)),
      stored: (message, outcome) => this.onStored(runtime, message, outcome),
      storageFailed: (error, what, withholds = true) =>
        this.onStorageFailed(runtime, error, what, withholds),
      protocolError: (error, connectionId) => this.onProtocolError(runtime, error, connectionId),
      note: (level, code, message) => this.log(id, level, 'protocol', code, message),
      nextControlId: () => this.nextControlId(),
      orders: this.options.orders ?? null,
      ordersSent: (orderIds, messageId, cancelledIds = []) => {
        try {
          this.options.orders?.sent(runtime.config, orderIds, messageId, cancelledIds);
        } catch (error) {
          this.log(id, 'warn', 'orders', null, `could not record orders as sent: ${String(error)}`);
        }
      },
      updateOutcome: (messageId, change) => {
        try {
          this.store.updateMessageOutcome(messageId, change);
        } catch (error) {
          this.log(id, 'warn', 'storage', null, `could not record a delivery: ${String(error)}`);
        }
      },
    };
  }

  /** A control ID unique within this gateway, for messages it originates. */
  nextControlId(): string {
    this.controlSeq = (this.controlSeq + 1) % 1_000_000;
    return `LG${this.clock.now().toString(36).toUpperCase()}${String(this.controlSeq).padStart(6, '0')}`;
  }

  private onStored(runtime: InstrumentRuntime, message: NewMessage, outcome: InsertOutcome): void {
    const now = this.clock.now();
    runtime.rollOver(now);
    if (runtime.storageFailing) {
      runtime.storageFailing = false;
      this.log(
        runtime.config.id,
        'info',
        'storage',
        null,
        'storage works again; acknowledging as usual',
      );
    }
    if (message.direction === 'in') {
      runtime.lastMessageAt = now;
      if (!outcome.duplicate && message.results.length > 0)
        this.trackResults(runtime, outcome.id, message);
      if (!outcome.duplicate) runtime.counters.messagesIn++;
      if (runtime.silent) {
        runtime.silent = false;
        this.log(runtime.config.id, 'info', 'alarm', null, 'traffic again after a silence');
      }
    } else if (!outcome.duplicate) {
      runtime.counters.messagesOut++;
    }
    if (outcome.duplicate) {
      this.log(
        runtime.config.id,
        'warn',
        'protocol',
        'DUPLICATE_MESSAGE',
        `the same message arrived again${message.controlId ? ` (control ID ${message.controlId})` : ''}; acknowledged, not stored twice`,
      );
    }
    if (this.listeners.size > 0) this.emitStored(runtime, message, outcome);
    this.emitStatus(runtime);
  }

  private emitStored(
    runtime: InstrumentRuntime,
    message: NewMessage,
    outcome: InsertOutcome,
  ): void {
    this.emit({
      type: 'messageStored',
      message: {
        id: outcome.id,
        instrumentId: runtime.config.id,
        protocol: message.protocol,
        direction: message.direction,
        receivedAt: message.receivedAt,
        controlId: message.controlId ?? null,
        sampleIds: [...(message.sampleIds ?? [])],
        patientIds: [...(message.patientIds ?? [])],
        status: message.status,
        ack: message.ack ?? null,
        resultCount: message.results.length,
        errorCount: message.errors.length,
        qc: message.results.some((result) => result.qc === true),
        duplicate: outcome.duplicate,
      },
    });
  }

  /** Results move the orders that asked for them; a failure here never touches the ACK. */
  private trackResults(runtime: InstrumentRuntime, messageId: number, message: NewMessage): void {
    const orders = this.options.orders;
    if (!orders) return;
    try {
      orders.resultsStored(runtime.config, messageId, message.results);
    } catch (error) {
      this.log(
        runtime.config.id,
        'warn',
        'orders',
        'ORDER_TRACKING_FAILED',
        `results were stored but their orders could not be updated: ${String(error)}`,
      );
    }
  }

  private onStorageFailed(
    runtime: InstrumentRuntime,
    error: unknown,
    what: string,
    withholds: boolean,
  ): void {
    const problem = storageProblem(error);
    runtime.storageFailing = true;
    runtime.counters.errors++;
    runtime.lastError = { ...problem, at: this.clock.now() };
    this.log(
      runtime.config.id,
      'error',
      'storage',
      problem.code,
      `${withholds ? 'not acknowledging: ' : ''}storage failed (${problem.message}); ${what}`,
    );
    this.emitStatus(runtime);
  }

  private onProtocolError(
    runtime: InstrumentRuntime,
    error: ProtocolError,
    connectionId: string,
  ): void {
    runtime.rollOver(this.clock.now());
    runtime.counters.errors++;
    runtime.lastError = { code: error.code, message: error.message, at: this.clock.now() };
    this.log(runtime.config.id, 'warn', 'protocol-error', error.code, error.message, {
      connectionId,
    });
    this.emitStatus(runtime);
  }

  private onLinkEvent(runtime: InstrumentRuntime, event: LinkEvent): void {
    const id = runtime.config.id;
    switch (event.type) {
      case 'status':
        if (runtime.link) this.emitStatus(runtime);
        break;
      case 'connected':
        this.log(id, 'info', 'connection', null, `connected to ${event.peer}`);
        break;
      case 'disconnected':
        this.log(
          id,
          'info',
          'connection',
          event.reason.code,
          `connection with ${event.peer} ended: ${event.reason.message}`,
        );
        break;
      case 'refused':
        this.log(id, 'warn', 'connection', event.code, event.message, { peer: event.peer });
        break;
      case 'error':
        runtime.lastError = { code: event.code, message: event.message, at: this.clock.now() };
        if (event.connectionId) runtime.counters.errors++;
        this.log(id, 'warn', 'connection', event.code, event.message);
        this.emitStatus(runtime);
        break;
      case 'trace':
        if (this.options.trace !== false) {
          this.store.enqueueTrace({
            instrumentId: id,
            connectionId: event.connectionId,
            at: event.at,
            direction: event.direction,
            bytes: event.bytes,
            offset: event.offset,
          });
        }
        break;
    }
  }

  private purgeOnce(): Promise<void> {
    const now = this.clock.now();
    const retention = this.options.retention ?? { messagesDays: 365, traceDays: 30 };
    const request = {
      messagesBefore: now - retention.messagesDays * DAY_MS,
      traceBefore: now - retention.traceDays * DAY_MS,
      batchSize: 500,
    };
    let total = 0;
    // One small batch per turn of the event loop, so links keep being served meanwhile.
    return new Promise<void>((resolve, reject) => {
      const step = (): void => {
        try {
          const outcome = this.store.purge(request);
          total += outcome.messages;
          if (outcome.more && !this.closing) setImmediate(step);
          else {
            if (total > 0) {
              this.log(null, 'info', 'storage', null, `retention: removed ${total} old messages`);
            }
            resolve();
          }
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      };
      step();
    });
  }

  private checkSilence(): void {
    const now = this.clock.now();
    const hour = new Date(now).getHours();
    for (const runtime of this.instruments.values()) {
      const silence = runtime.config.silence;
      if (!silence || !runtime.link || runtime.silent) continue;
      const expected = silence.fromHour <= hour && hour < silence.toHour;
      const last = Math.max(runtime.lastMessageAt ?? 0, runtime.startedAt, runtime.silenceAckedAt);
      if (expected && now - last >= silence.afterMs) {
        runtime.silent = true;
        this.log(
          runtime.config.id,
          'warn',
          'alarm',
          'SILENCE',
          `no message for ${formatDuration(now - last)} while traffic is expected`,
        );
        this.emitStatus(runtime);
      }
    }
  }

  private rollOver(): void {
    const now = this.clock.now();
    for (const runtime of this.instruments.values()) {
      if (runtime.rollOver(now)) this.emitStatus(runtime);
    }
  }

  /** A line for the event log (stored and sent to listeners). */
  log(
    instrumentId: string | null,
    level: LogLevel,
    kind: string,
    code: string | null,
    message: string,
    data?: unknown,
  ): void {
    const entry: LogEntry = { at: this.clock.now(), instrumentId, level, kind, code, message };
    try {
      this.store.enqueueEvent({ ...entry, ...(data === undefined ? {} : { data }) });
    } catch {
      // The log line still reaches listeners when the events table cannot take it.
    }
    this.emit({ type: 'log', entry });
  }

  /** A log line that is not written to the events table (it is about that table failing). */
  private listenersOnly(
    instrumentId: string | null,
    level: LogLevel,
    kind: string,
    code: string | null,
    message: string,
  ): void {
    this.emit({
      type: 'log',
      entry: { at: this.clock.now(), instrumentId, level, kind, code, message },
    });
  }

  private emitStatus(runtime: InstrumentRuntime): void {
    if (this.listeners.size === 0) return;
    this.emit({ type: 'status', status: runtime.status() });
  }

  private emit(event: GatewayEvent): void {
    if (this.listeners.size === 0) return;
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        process.emitWarning(`gateway listener failed: ${String(error)}`);
      }
    }
  }
}

/**
 * A complete incoming message with results goes to the instrument's destinations: its outbox
 * entries are named here and written by the store in the message's own transaction.
 */
export function withOutbox(message: NewMessage, config: InstrumentConfig): NewMessage {
  if (message.direction !== 'in' || message.status === 'incomplete') return message;
  if (message.results.length === 0 || message.outbox !== undefined) return message;
  if (config.forwardTo.length === 0 && config.qc.forwardTo.length === 0) return message;
  // The handlers' results carry their QC mark already; a copy only when one lacks it.
  const results = message.results.every((result) => typeof result.qc === 'boolean')
    ? (message.results as StoredResult[])
    : message.results.map((result) => ({ ...result, qc: result.qc === true }));
  const outbox = forwardingTargets(results, config);
  return outbox.length === 0 ? message : { ...message, outbox };
}
