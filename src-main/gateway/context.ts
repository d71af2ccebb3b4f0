import { hash } from 'node:crypto';
import type { InstrumentConfig } from '../../src-shared/config';
import type { Clock } from '../protocols/clock';
import type { ProtocolError } from '../protocols/errors';
import type { InsertOutcome, NewMessage } from '../store/types';
import type { InstrumentOrders } from './orders-port';

/**
 * What a connection handler may ask of the gateway: its instrument's settings, the clock, the
 * group-commit write path, and places to report what happened. Handlers never see the store or
 * other instruments directly.
 */
export interface InstrumentContext {
  readonly config: InstrumentConfig;
  readonly clock: Clock;
  /** Commits the message (with others of the same turn); rejects when storage failed. */
  persist(message: NewMessage): Promise<InsertOutcome>;
  /** A message is stored: counters, events. */
  stored(message: NewMessage, outcome: InsertOutcome): void;
  /**
   * Storage failed for a message of this instrument: nothing was acknowledged. `withholds`
   * false: the line has no acknowledgement to withhold (bare ASTM records).
   */
  storageFailed(error: unknown, what: string, withholds?: boolean): void;
  protocolError(error: ProtocolError, connectionId: string): void;
  /** Something worth a line in the event log. */
  note(level: 'info' | 'warn' | 'error', code: string | null, message: string): void;
  /** Records what became of a message we sent (delivered, failed). */
  updateOutcome(id: number, change: { status?: string; ack?: string | null }): void;
  /** A fresh control ID for messages we originate (HL7 ACKs, ASTM answers). */
  nextControlId(): string;
  /** The order side, when the gateway has one: host query answers, downloads. */
  readonly orders: InstrumentOrders | null;
  /** Orders (and cancellations) went out to this instrument in stored message `messageId`. */
  ordersSent(
    orderIds: readonly number[],
    messageId: number | null,
    cancelledIds?: readonly number[],
  ): void;
}

/** Identifies a resend of the same message: same instrument (the store scopes it), same bytes. */
export function dedupeKey(prefix: string, text: string): string {
  // One call (no Hash object): the same digest as createHash('sha256').update(text).
  return `${prefix}:${hash('sha256', text, 'base64url').slice(0, 32)}`;
}

/** Words for a failed write, whatever was thrown. */
export function storageProblem(error: unknown): { code: string; message: string } {
  if (error && typeof error === 'object' && 'code' in error && 'message' in error) {
    return { code: String(error.code), message: String(error.message) };
  }
  return { code: 'STORE_WRITE_FAILED', message: String(error) };
}

/** Unique values, in order, without empties. */
export function distinct(values: Iterable<string | null | undefined>): string[] {
  const seen = new Set<string>();
  for (const value of values) if (value) seen.add(value);
  return [...seen];
}
