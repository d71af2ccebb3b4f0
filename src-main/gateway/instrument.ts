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

  /**
   * What the dashboard shows, built once per stored message: written out without object spreads
   * (each costs a property-by-property copy), in the same key order as before.
   */
  status(): InstrumentStatus {
    const { config, counters } = this;
    // A copy already, peers included.
    const link: LinkStatus | null = this.link?.status ?? null;
    const live = config.enabled && link !== null;
    const tcp = config.transport === 'tcp';
    return {
      id: config.id,
      name: this.name,
      protocol: config.protocol,
      transport: config.transport,
      mode: tcp ? (config.mode ?? null) : null,
      host: config.host,
      port: tcp ? (config.port ?? null) : null,
      serial: config.transport === 'serial' ? (config.serial ?? null) : null,
      enabled: config.enabled,
      lastMessageAt: this.lastMessageAt,
      counters: {
        day: counters.day,
        messagesIn: counters.messagesIn,
        messagesOut: counters.messagesOut,
        errors: counters.errors,
      },
      lastError: this.lastError,
      silent: this.silent,
      storageFailing: this.storageFailing,
      managedBy: this.source,
      state: live ? link.state : 'disabled',
      since: live ? link.since : this.disabledSince,
      reason: live ? link.reason : config.enabled ? 'not started' : 'disabled in the configuration',
      peers: live ? link.peers : [],
      nextRetryAt: live ? link.nextRetryAt : null,
      lastActivityAt: live ? link.lastActivityAt : null,
      disconnectedByUser: live ? link.disconnectedByUser : false,
    };
  }
}
