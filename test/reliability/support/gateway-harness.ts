/**
 * A gateway as `serve` composes it (real store file, real sockets), started inside the test
 * process so its events can be read as they happen and its status checked at any moment.
 */
import path from 'node:path';
import { instrumentConfigSchema, type InstrumentConfigInput } from '../../../src-shared/config';
import type { GatewayEvent, LogEntry } from '../../../src-main/gateway/events';
import { Gateway } from '../../../src-main/gateway/gateway';
import type { Clock } from '../../../src-main/protocols/clock';
import { openStore, type Store } from '../../../src-main/store/store';
import { tempDir } from '../../support/temp';
import { eventually } from './wire';

export interface HarnessOptions {
  instruments: InstrumentConfigInput[];
  clock?: Clock;
  random?: () => number;
  durability?: 'full' | 'normal';
  trace?: boolean;
}

export class GatewayHarness {
  readonly gateway: Gateway;
  readonly store: Store;
  readonly dbFile: string;
  readonly tap: EventTap;
  private readonly removeDir: () => void;
  private closed = false;

  constructor(options: HarnessOptions) {
    const temp = tempDir('labgw-reliability-');
    this.removeDir = temp.remove;
    this.dbFile = path.join(temp.dir, 'gateway.sqlite');
    this.store = openStore({ file: this.dbFile, durability: options.durability ?? 'normal' });
    this.gateway = new Gateway({
      store: this.store,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.random ? { random: options.random } : {}),
      ...(options.trace === undefined ? {} : { trace: options.trace }),
    });
    this.tap = new EventTap();
    this.gateway.subscribe(this.tap.listener);
    this.gateway.start(options.instruments.map((config) => instrumentConfigSchema.parse(config)));
  }

  /** Waits until every listed instrument has reached `state`. */
  async waitFor(ids: readonly string[], state: string, ms = 10_000): Promise<void> {
    const ok = await eventually(
      () => ids.every((id) => this.gateway.status(id)?.state === state),
      ms,
    );
    if (!ok) {
      const states = ids.map((id) => `${id}: ${this.gateway.status(id)?.state ?? 'missing'}`);
      throw new Error(`instruments not ${state} within ${ms} ms (${states.join(', ')})`);
    }
  }

  async close(deadlineMs = 2_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.gateway.close(deadlineMs);
  }

  /** Closes (if still open) and deletes the database folder. */
  async dispose(): Promise<void> {
    await this.close();
    this.removeDir();
  }
}

/**
 * Log lines per instrument since the last `take`, plus running totals per code. Status events
 * and stored-message events are counted, not kept, so a long run stays small.
 */
export class EventTap {
  private readonly pending = new Map<string, LogEntry[]>();
  readonly codeCounts = new Map<string, number>();
  /** The first few messages seen for each code, as examples for reports. */
  readonly examples = new Map<string, string[]>();
  readonly storedByInstrument = new Map<string, number>();
  readonly duplicatesByInstrument = new Map<string, number>();
  private readonly watchers = new Set<(entry: LogEntry) => void>();

  readonly listener = (event: GatewayEvent): void => {
    if (event.type === 'messageStored') {
      const id = event.message.instrumentId;
      const counter = event.message.duplicate
        ? this.duplicatesByInstrument
        : this.storedByInstrument;
      counter.set(id, (counter.get(id) ?? 0) + 1);
      return;
    }
    if (event.type !== 'log') return;
    const entry = event.entry;
    const key = entry.instrumentId ?? '';
    let list = this.pending.get(key);
    if (!list) this.pending.set(key, (list = []));
    list.push(entry);
    // A connection left open for the whole run still must not grow without bound.
    if (list.length > 10_000) list.splice(0, list.length - 10_000);
    if (entry.code) {
      this.codeCounts.set(entry.code, (this.codeCounts.get(entry.code) ?? 0) + 1);
      const examples = this.examples.get(entry.code) ?? [];
      if (examples.length < 3) this.examples.set(entry.code, [...examples, entry.message]);
    }
    for (const watcher of this.watchers) watcher(entry);
  };

  /** Log lines of the instrument since the previous take. */
  take(instrumentId: string): LogEntry[] {
    const list = this.pending.get(instrumentId) ?? [];
    this.pending.set(instrumentId, []);
    return list;
  }

  /** Log lines of the instrument since the previous take, leaving them in place. */
  peek(instrumentId: string): readonly LogEntry[] {
    return this.pending.get(instrumentId) ?? [];
  }

  count(code: string): number {
    return this.codeCounts.get(code) ?? 0;
  }

  /** Calls `watcher` for every later log line; returns the function that stops it. */
  watch(watcher: (entry: LogEntry) => void): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }
}
