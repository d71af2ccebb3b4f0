import type { InstrumentConfig, InstrumentSource } from '../../src-shared/config';
import type { Counters, InstrumentStatus } from '../../src-shared/status';
import type { Link, LinkStatus } from '../links/types';

/** `YYYY-MM-DD` of the local calendar day. */
export function localDay(at: number): string {
  const d = new Date(at);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** One instrument's moving parts and what the dashboard shows of it. */
export class InstrumentRuntime {
  link: Link | null = null;
  counters: Counters;
  lastMessageAt: number | null = null;
  lastError: { code: string; message: string; at: number } | null = null;
  silent = false;
  /** A silence acknowledged by the user is counted again from here. */
  silenceAckedAt = 0;
  storageFailing = false;
  /** When the link started: silence is counted from here until the first message. */
  startedAt: number;
  private disabledSince: number;

  constructor(
    public config: InstrumentConfig,
    readonly source: InstrumentSource,
    now: number,
  ) {
    this.counters = { day: localDay(now), messagesIn: 0, messagesOut: 0, errors: 0 };
    this.startedAt = now;
    this.disabledSince = now;
  }

  get name(): string {
    return this.config.name ?? this.config.id;
  }

  markDisabled(now: number): void {
    this.disabledSince = now;
  }

  rollOver(now: number): boolean {
    const day = localDay(now);
    if (day === this.counters.day) return false;
    this.counters = { day, messagesIn: 0, messagesOut: 0, errors: 0 };
    return true;
  }

  status(): InstrumentStatus {
    const { config } = this;
    const link: LinkStatus | null = this.link?.status ?? null;
    const base = {
      id: config.id,
      name: this.name,
      protocol: config.protocol,
      transport: config.transport,
      mode: config.transport === 'tcp' ? (config.mode ?? null) : null,
      host: config.host,
      port: config.transport === 'tcp' ? (config.port ?? null) : null,
      serial: config.transport === 'serial' ? (config.serial ?? null) : null,
      enabled: config.enabled,
      lastMessageAt: this.lastMessageAt,
      counters: { ...this.counters },
      lastError: this.lastError,
      silent: this.silent,
      storageFailing: this.storageFailing,
      managedBy: this.source,
    };
    if (!config.enabled || !link) {
      return {
        ...base,
        state: 'disabled',
        since: this.disabledSince,
        reason: config.enabled ? 'not started' : 'disabled in the configuration',
        peers: [],
        nextRetryAt: null,
        lastActivityAt: null,
        disconnectedByUser: false,
      };
    }
    return {
      ...base,
      state: link.state,
      since: link.since,
      reason: link.reason,
      peers: [...link.peers],
      nextRetryAt: link.nextRetryAt,
      lastActivityAt: link.lastActivityAt,
      disconnectedByUser: link.disconnectedByUser,
    };
  }
}
