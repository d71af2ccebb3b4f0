import type { InstrumentConfig } from './config';

/**
 * What changing each instrument setting does to a running link, decided in one place:
 *
 * - `live`: read when a message is handled (name, alarms, profile, test-code mapping, QC,
 *   forwarding, orders); saving applies it at once and the analyzer stays connected.
 * - `reconnect`: the connection itself (address, mode, protocol, framing, wire limits, timers);
 *   saving closes the link, after a message in flight has finished, and opens it again.
 *
 * Typed as a record of every key, so a new setting does not compile until it is classified here
 * (and a test checks the schema's keys at run time too).
 */
export const INSTRUMENT_KEY_EFFECTS = {
  id: 'reconnect',
  name: 'live',
  protocol: 'reconnect',
  transport: 'reconnect',
  serial: 'reconnect',
  mode: 'reconnect',
  host: 'reconnect',
  port: 'reconnect',
  enabled: 'reconnect',
  encoding: 'reconnect',
  maxConnections: 'reconnect',
  allowedPeers: 'reconnect',
  connectTimeoutMs: 'reconnect',
  reconnect: 'reconnect',
  keepAliveMs: 'reconnect',
  idleTimeoutMs: 'reconnect',
  maxMessageBytes: 'reconnect',
  maxBufferedBytes: 'reconnect',
  silence: 'live',
  astm: 'reconnect',
  hl7: 'live',
  profile: 'live',
  testCodes: 'live',
  qc: 'live',
  orders: 'live',
  forwardTo: 'live',
} as const satisfies Record<keyof InstrumentConfig, 'live' | 'reconnect'>;

export type InstrumentKey = keyof typeof INSTRUMENT_KEY_EFFECTS;
export type KeyEffect = (typeof INSTRUMENT_KEY_EFFECTS)[InstrumentKey];

/** Plain names of the settings, for "saving reconnects: port, host changed". */
export const INSTRUMENT_KEY_LABELS: Record<InstrumentKey, string> = {
  id: 'ID',
  name: 'name',
  protocol: 'protocol',
  transport: 'TCP or serial',
  serial: 'serial port and line settings',
  mode: 'mode',
  host: 'host',
  port: 'port',
  enabled: 'enabled',
  encoding: 'text encoding',
  maxConnections: 'most connections',
  allowedPeers: 'allowed addresses',
  connectTimeoutMs: 'connect timeout',
  reconnect: 'reconnect delays',
  keepAliveMs: 'TCP keepalive',
  idleTimeoutMs: 'idle timeout',
  maxMessageBytes: 'largest message',
  maxBufferedBytes: 'buffered bytes limit',
  silence: 'silence alarm',
  astm: 'ASTM framing and frame sizes',
  hl7: 'HL7 options',
  profile: 'profile',
  testCodes: 'test-code mapping',
  qc: 'QC rules',
  orders: 'orders',
  forwardTo: 'forwarding',
};

/** How a setting not in the table is treated: safely, by reconnecting. */
export function keyEffect(key: string): KeyEffect {
  return Object.hasOwn(INSTRUMENT_KEY_EFFECTS, key)
    ? INSTRUMENT_KEY_EFFECTS[key as InstrumentKey]
    : 'reconnect';
}

/** Order-independent deep equality of JSON values (settings are plain JSON). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const key of keys) {
    if (ao[key] === undefined && bo[key] === undefined) continue;
    if (!sameJson(ao[key], bo[key])) return false;
  }
  return true;
}

/** The settings that differ between two configurations of one instrument. */
export function changedKeys(
  before: Readonly<Record<string, unknown>>,
  after: Readonly<Record<string, unknown>>,
): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((key) => !sameJson(before[key], after[key])).sort();
}

export interface ChangePlan {
  /** Every setting that changed. */
  changed: string[];
  /** Those that need the link closed and opened again; empty when everything applies live. */
  reconnect: string[];
}

export function planChange(
  before: Readonly<Record<string, unknown>>,
  after: Readonly<Record<string, unknown>>,
): ChangePlan {
  const changed = changedKeys(before, after);
  return { changed, reconnect: changed.filter((key) => keyEffect(key) === 'reconnect') };
}

/** "port and host", "name, silence alarm and QC rules". */
export function describeKeys(keys: readonly string[]): string {
  const words = keys.map((key) =>
    Object.hasOwn(INSTRUMENT_KEY_LABELS, key) ? INSTRUMENT_KEY_LABELS[key as InstrumentKey] : key,
  );
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}
