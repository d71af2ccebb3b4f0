/**
 * Results to the LIS: one worker per destination, started from the configuration file and from
 * the destinations added in the app, each changed or removed on its own at run time. Hold,
 * release and resend act at once here, and within a second when another program (the command
 * line) changes them in the database. An alarm is raised when a destination's oldest waiting
 * entry is older than its `alarmAfterMs`.
 */
import {
  destinationConfigSchema,
  type DestinationConfig,
  type InstrumentConfig,
  type InstrumentSource,
} from '../../src-shared/config';
import { Timer, type Clock } from '../protocols/clock';
import type { OutboxSummary } from '../store/outbox';
import type { Store } from '../store/store';
import { DestinationWorker, POLL_MS, type WorkerDeps, type WorkerStatus } from './worker';

export type ForwardLog = (
  level: 'info' | 'warn' | 'error',
  kind: 'forwarding' | 'alarm' | 'user-action' | 'config',
  code: string | null,
  message: string,
  destinationId: string,
) => void;

export interface ForwarderDeps {
  store: Store;
  clock: Clock;
  random?: () => number;
  instrument: (id: string) => InstrumentConfig | null;
  log: ForwardLog;
  /** A destination's status changed (for the UI's push updates). */
  changed?: (destinationId: string) => void;
  transport?: WorkerDeps['transport'];
  env?: NodeJS.ProcessEnv;
  /** How often the alarms are checked. Default 15 s. */
  alarmCheckMs?: number;
}

export interface DestinationStatus {
  id: string;
  name: string;
  type: DestinationConfig['type'];
  source: InstrumentSource | null;
  /** Null for a destination removed from the setup whose entries are still waiting (held). */
  config: DestinationConfig | null;
  state: WorkerStatus['state'] | 'removed';
  reason: string;
  nextRetryAt: number | null;
  held: boolean;
  pending: number;
  heldEntries: number;
  failed: number;
  deliveredToday: number;
  oldestWaitingAt: number | null;
  lastError: string | null;
  alarm: boolean;
}

interface Running {
  worker: DestinationWorker;
  source: InstrumentSource;
}

export class Forwarder {
  private readonly running = new Map<string, Running>();
  private readonly syncTimer: Timer;
  private readonly alarmTimer: Timer;
  private readonly alarmed = new Set<string>();
  private readonly unsubscribe: () => void;
  private closed = false;
  private readonly changeListeners = new Set<(destinationId: string) => void>();

  constructor(private readonly deps: ForwarderDeps) {
    this.syncTimer = new Timer(deps.clock);
    this.alarmTimer = new Timer(deps.clock);
    this.unsubscribe = deps.store.onOutboxWritten((ids) => {
      for (const id of ids) this.running.get(id)?.worker.wake();
    });
  }

  /**
   * Starts the file's destinations and those saved in the app. A file destination the file no
   * longer names is forgotten; its waiting entries show as held until it comes back.
   */
  start(fileDestinations: readonly DestinationConfig[]): void {
    const named = new Set(fileDestinations.map((d) => d.id));
    const records = this.deps.store.listDestinations();
    const held = new Map(records.map((r) => [r.id, r.held]));
    for (const record of records) {
      if (record.source === 'file' && !named.has(record.id)) {
        this.deps.store.deleteDestination(record.id);
      }
    }
    for (const config of fileDestinations) {
      this.deps.store.upsertDestination(config.id, config, 'file');
      this.startWorker(config, 'file', held.get(config.id) ?? false);
    }
    for (const record of records) {
      if (record.source !== 'app' || named.has(record.id)) continue;
      const parsed = destinationConfigSchema.safeParse(record.config);
      if (!parsed.success) {
        const why = parsed.error.issues.map((i) => i.message).join('; ');
        this.deps.log(
          'error',
          'config',
          'FORWARD_BAD_SETTINGS',
          `not started: its saved settings are invalid (${why})`,
          record.id,
        );
        continue;
      }
      this.startWorker(parsed.data, 'app', record.held);
    }
    this.syncTimer.arm(POLL_MS, () => this.sync());
    this.alarmTimer.arm(this.deps.alarmCheckMs ?? 15_000, () => this.checkAlarms());
  }

  ids(): string[] {
    return [...this.running.keys()];
  }

  /** Told when a destination's status may have changed; returns the unsubscribe function. */
  onChange(listener: (destinationId: string) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  sourceOf(id: string): InstrumentSource | null {
    return this.running.get(id)?.source ?? null;
  }

  config(id: string): DestinationConfig | null {
    return this.running.get(id)?.worker.config ?? null;
  }

  /** Adds a destination at run time (kept in the database, source `app`). */
  add(config: DestinationConfig): void {
    if (this.running.has(config.id))
      throw new Error(`a destination with the id "${config.id}" already exists`);
    const previous = this.deps.store.getDestination(config.id);
    this.deps.store.upsertDestination(config.id, config, 'app');
    this.startWorker(config, 'app', previous?.held ?? false);
    this.deps.log('info', 'config', null, 'destination added', config.id);
  }

  /** Applies changed settings: only this destination restarts. */
  async update(config: DestinationConfig): Promise<void> {
    const current = this.require(config.id);
    await current.worker.close();
    this.running.delete(config.id);
    this.deps.store.upsertDestination(config.id, config, current.source);
    this.startWorker(config, current.source, current.worker.isHeld);
    this.deps.log('info', 'config', null, 'settings changed', config.id);
  }

  /** Stops and forgets a destination; its waiting entries stay, held, until it is back. */
  async remove(id: string): Promise<void> {
    const current = this.require(id);
    await current.worker.close();
    this.running.delete(id);
    this.deps.store.deleteDestination(id);
    this.deps.log('info', 'config', null, 'destination removed; its waiting messages are held', id);
    this.changed(id);
  }

  hold(id: string): void {
    if (!this.deps.store.setDestinationHeld(id, true))
      throw new Error(`no destination with the id "${id}"`);
    const running = this.running.get(id);
    running?.worker.setHeld(true);
    this.deps.log(
      'info',
      'user-action',
      null,
      'put on hold: nothing is sent until it is released',
      id,
    );
  }

  release(id: string): void {
    if (!this.deps.store.setDestinationHeld(id, false))
      throw new Error(`no destination with the id "${id}"`);
    this.running.get(id)?.worker.setHeld(false);
    this.deps.log('info', 'user-action', null, 'released: delivering again', id);
  }

  /** Sends a message again (to one destination, or every one it went to); returns how many. */
  resend(messageId: number, destinationId: string | null = null): number {
    this.flushOutcomes(destinationId);
    const count = this.deps.store.resendMessage(messageId, destinationId);
    if (count > 0) {
      for (const id of destinationId === null ? this.running.keys() : [destinationId]) {
        this.deps.log('info', 'user-action', null, `message ${messageId} to be sent again`, id);
        this.running.get(id)?.worker.wake();
      }
    }
    return count;
  }

  /** Sends every failed entry (of one destination) again; returns how many. */
  retryFailed(destinationId: string | null = null): number {
    this.flushOutcomes(destinationId);
    const count = this.deps.store.resendFailed(destinationId);
    for (const [id, running] of this.running) {
      if (destinationId !== null && id !== destinationId) continue;
      if (count > 0)
        this.deps.log(
          'info',
          'user-action',
          null,
          `${count} failed message${count === 1 ? '' : 's'} to be sent again`,
          id,
        );
      running.worker.retryNow();
      running.worker.wake();
    }
    return count;
  }

  statuses(dayStart: number): DestinationStatus[] {
    const summaries = new Map<string, OutboxSummary>(
      this.deps.store.outboxSummaries(this.ids(), dayStart).map((s) => [s.destinationId, s]),
    );
    const out: DestinationStatus[] = [];
    for (const [id, running] of this.running) {
      const config = running.worker.config;
      const status = running.worker.status();
      const summary = summaries.get(id);
      out.push({
        id,
        name: config.name ?? id,
        type: config.type,
        source: running.source,
        config,
        state: status.state,
        reason: status.reason,
        nextRetryAt: status.nextRetryAt,
        held: running.worker.isHeld,
        pending: summary?.pending ?? 0,
        heldEntries: summary?.held ?? 0,
        failed: summary?.failed ?? 0,
        deliveredToday: summary?.deliveredToday ?? 0,
        oldestWaitingAt: summary?.oldestWaitingAt ?? null,
        lastError:
          status.state === 'retrying' || status.state === 'waiting'
            ? status.reason
            : (summary?.lastError ?? null),
        alarm: this.alarmed.has(id),
      });
    }
    for (const [id, summary] of summaries) {
      if (this.running.has(id) || summary.held + summary.pending === 0) continue;
      out.push({
        id,
        name: id,
        type: 'hl7',
        source: null,
        config: null,
        state: 'removed',
        reason: 'no longer configured: its waiting messages are held',
        nextRetryAt: null,
        held: true,
        pending: 0,
        heldEntries: summary.held + summary.pending,
        failed: summary.failed,
        deliveredToday: summary.deliveredToday,
        oldestWaitingAt: summary.oldestWaitingAt,
        lastError: summary.lastError,
        alarm: this.alarmed.has(id),
      });
    }
    return out;
  }

  /**
   * Records the outcomes still waiting in a worker's batch before a resend: otherwise the
   * earlier send's outcome, written after the resend, would mark it delivered (or leave it
   * failed) without the message being sent again.
   */
  private flushOutcomes(destinationId: string | null): void {
    for (const [id, { worker }] of this.running) {
      if (destinationId === null || id === destinationId) worker.flush();
    }
  }

  /** Records every outcome still waiting (tests, shutdown). */
  flush(): void {
    for (const { worker } of this.running.values()) worker.flush();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.syncTimer.disarm();
    this.alarmTimer.disarm();
    await Promise.all([...this.running.values()].map(({ worker }) => worker.close()));
  }

  private startWorker(config: DestinationConfig, source: InstrumentSource, held: boolean): void {
    const id = config.id;
    const worker = new DestinationWorker(config, held, {
      store: this.deps.store,
      clock: this.deps.clock,
      ...(this.deps.random ? { random: this.deps.random } : {}),
      ...(this.deps.transport ? { transport: this.deps.transport } : {}),
      ...(this.deps.env ? { env: this.deps.env } : {}),
      instrument: (instrumentId) => this.deps.instrument(instrumentId),
      log: (level, code, message) => this.deps.log(level, 'forwarding', code, message, id),
      changed: () => this.changed(id),
    });
    this.running.set(id, { worker, source });
    worker.start();
    this.changed(id);
  }

  private changed(id: string): void {
    this.deps.changed?.(id);
    for (const listener of this.changeListeners) {
      try {
        listener(id);
      } catch {
        // A listener's bug must not stop delivery.
      }
    }
  }

  private require(id: string): Running {
    const running = this.running.get(id);
    if (!running) throw new Error(`no destination with the id "${id}"`);
    return running;
  }

  /** Hold and release from the command line; entries resent from there are found by the polls. */
  private sync(): void {
    if (this.closed) return;
    try {
      for (const record of this.deps.store.listDestinations()) {
        const running = this.running.get(record.id);
        if (!running || running.worker.isHeld === record.held) continue;
        running.worker.setHeld(record.held);
        this.deps.log(
          'info',
          'user-action',
          null,
          record.held ? 'put on hold (from the command line)' : 'released (from the command line)',
          record.id,
        );
      }
    } catch {
      // The next round reads again.
    }
    this.syncTimer.arm(POLL_MS, () => this.sync());
  }

  private checkAlarms(): void {
    if (this.closed) return;
    const now = this.deps.clock.now();
    try {
      for (const summary of this.deps.store.outboxSummaries(this.ids(), now)) {
        const id = summary.destinationId;
        const threshold = this.running.get(id)?.worker.config.alarmAfterMs ?? 600_000;
        const oldest = summary.oldestWaitingAt;
        const late = oldest !== null && now - oldest > threshold;
        if (late && !this.alarmed.has(id)) {
          this.alarmed.add(id);
          const minutes = Math.round((now - oldest) / 60_000);
          this.deps.log(
            'warn',
            'alarm',
            'FORWARD_BACKLOG',
            `the oldest message waiting for this destination is ${minutes} min old (${summary.pending + summary.held} waiting)`,
            id,
          );
          this.changed(id);
        } else if (!late && this.alarmed.has(id)) {
          this.alarmed.delete(id);
          this.deps.log('info', 'alarm', 'FORWARD_BACKLOG_CLEARED', 'the backlog is cleared', id);
          this.changed(id);
        }
      }
    } catch {
      // Checked again next round.
    }
    this.alarmTimer.arm(this.deps.alarmCheckMs ?? 15_000, () => this.checkAlarms());
  }
}
