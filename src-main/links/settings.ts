import { systemClock } from '../system-clock';
import { DEFAULT_BACKOFF, type BackoffPolicy } from './backoff';
import type { ConnectionSettings } from './connection';
import type { LinkBaseOptions, LinkEvent } from './types';

export const DEFAULT_KEEPALIVE_MS = 30_000;
export const DEFAULT_MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
export const DEFAULT_CLOSE_GRACE_MS = 2_000;
export const DEFAULT_CLOSE_DEADLINE_MS = 5_000;

export function connectionSettings(options: LinkBaseOptions): ConnectionSettings {
  const maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  return {
    clock: options.clock ?? systemClock,
    keepAliveMs: options.keepAliveMs ?? DEFAULT_KEEPALIVE_MS,
    idleTimeoutMs: options.idleTimeoutMs ?? 0,
    maxBufferedBytes,
    maxSendBufferedBytes: options.maxSendBufferedBytes ?? maxBufferedBytes,
    closeGraceMs: options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS,
  };
}

export function backoffPolicy(overrides: Partial<BackoffPolicy> | undefined): BackoffPolicy {
  return { ...DEFAULT_BACKOFF, ...overrides };
}

/**
 * The listener as the link calls it. A listener that throws is reported as a process warning
 * instead of unwinding into socket callbacks, where it would leave the link half updated.
 */
export function eventSink(onEvent: ((event: LinkEvent) => void) | undefined) {
  return (event: LinkEvent): void => {
    if (!onEvent) return;
    try {
      onEvent(event);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      process.emitWarning(`a link event listener failed on a ${event.type} event: ${message}`);
    }
  };
}
