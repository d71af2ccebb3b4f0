/**
 * Gateway events turned into the contract's events, coalesced: they collect here and leave
 * together at most every `coalesceMs`, so a flood of messages costs the UI ~10 batches a second.
 */
import type { LogEntryView, StoredMessageEvent } from '../../src-shared/contract';
import type { InstrumentStatus } from '../../src-shared/status';
import type { GatewayListener } from '../gateway/events';
import type { Clock } from '../protocols/clock';
import type { Stats } from './stats';
import type { ServiceEvent } from './types';

/** Past a few thousand per batch the renderer only needs to know that more arrived. */
const MAX_PER_BATCH = 5_000;
/** States kept per instrument per batch, so a brief Connecting between two Connected shows. */
const MAX_STATES_PER_BATCH = 8;

export interface EventStreamDeps {
  subscribe(listener: GatewayListener): () => void;
  clock: Clock;
  stats(): Stats;
  /** Default 100 ms, so ≤ 10 batches a second. */
  coalesceMs?: number;
  /** How often statistics are pushed; default 10 s. */
  statsEveryMs?: number;
}

export class EventStream {
  private readonly listeners = new Set<(event: ServiceEvent) => void>();
  /** Per instrument, each state it passed through since the last batch (newest details kept). */
  private readonly statuses = new Map<string, InstrumentStatus[]>();
  private stored: StoredMessageEvent[] = [];
  private logged: LogEntryView[] = [];
  private flushCancel: (() => void) | null = null;
  private statsCancel: (() => void) | null = null;
  private readonly unsubscribeGateway: () => void;

  constructor(private readonly deps: EventStreamDeps) {
    this.unsubscribeGateway = deps.subscribe((event) => {
      if (this.listeners.size === 0) return;
      switch (event.type) {
        case 'status':
          this.keepState(event.status);
          break;
        case 'messageStored':
          if (this.stored.length < MAX_PER_BATCH) this.stored.push(event.message);
          break;
        case 'log':
          if (this.logged.length < MAX_PER_BATCH) this.logged.push(event.entry);
          break;
        case 'instrumentRemoved':
          this.statuses.delete(event.id);
          this.send({ name: 'instrumentRemoved', payload: { id: event.id } });
          return;
      }
      this.schedule();
    });
    this.statsCancel = deps.clock.schedule(this.statsEvery, this.tickStats);
  }

  subscribe(listener: (event: ServiceEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.unsubscribeGateway();
    this.flushCancel?.();
    this.statsCancel?.();
    this.listeners.clear();
  }

  private get statsEvery(): number {
    return this.deps.statsEveryMs ?? 10_000;
  }

  private keepState(status: InstrumentStatus): void {
    const queue = this.statuses.get(status.id) ?? [];
    const last = queue.at(-1);
    if (last && last.state === status.state) queue[queue.length - 1] = status;
    else if (queue.length < MAX_STATES_PER_BATCH) queue.push(status);
    else queue[queue.length - 1] = status;
    this.statuses.set(status.id, queue);
  }

  private schedule(): void {
    if (!this.flushCancel && this.listeners.size > 0) {
      this.flushCancel = this.deps.clock.schedule(this.deps.coalesceMs ?? 100, this.flush);
    }
  }

  private readonly flush = (): void => {
    this.flushCancel = null;
    if (this.statuses.size > 0) {
      this.send({ name: 'linkStatus', payload: { statuses: [...this.statuses.values()].flat() } });
      this.statuses.clear();
    }
    if (this.stored.length > 0) {
      this.send({ name: 'messagesStored', payload: { messages: this.stored } });
      this.stored = [];
    }
    if (this.logged.length > 0) {
      this.send({ name: 'logged', payload: { entries: this.logged } });
      this.logged = [];
    }
  };

  private readonly tickStats = (): void => {
    this.statsCancel = this.deps.clock.schedule(this.statsEvery, this.tickStats);
    if (this.listeners.size === 0) return;
    try {
      this.send({ name: 'statsTick', payload: this.deps.stats() });
    } catch (error) {
      process.emitWarning(`statistics failed: ${String(error)}`);
    }
  };

  private send(event: ServiceEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        process.emitWarning(`event listener failed: ${String(error)}`);
      }
    }
  }
}
