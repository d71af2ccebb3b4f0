/**
 * The composition root: builds the store and the gateway from a validated configuration. The
 * Electron shell and the headless CLI both start here; closing disposes in reverse order.
 */
import type { GatewayConfig } from '../src-shared/config';
import type { GatewayListener } from './gateway/events';
import { Gateway } from './gateway/gateway';
import type { Clock } from './protocols/clock';
import { openStore } from './store/store';

export interface GatewayRuntimeOptions {
  config: GatewayConfig;
  dbFile: string;
  /** better_sqlite3.node built for the running runtime, when it is not Node's. */
  nativeBinding?: string;
  onEvent?: GatewayListener;
  clock?: Clock;
}

export interface GatewayRuntime {
  gateway: Gateway;
  close(deadlineMs?: number): Promise<void>;
}

export function createGatewayRuntime(options: GatewayRuntimeOptions): GatewayRuntime {
  const { config } = options;
  const store = openStore({
    file: options.dbFile,
    durability: config.storage.durability,
    ...(options.nativeBinding ? { nativeBinding: options.nativeBinding } : {}),
  });
  const gateway = new Gateway({
    store,
    ...(options.clock ? { clock: options.clock } : {}),
    retention: {
      messagesDays: config.storage.retentionDays,
      traceDays: config.storage.traceRetentionDays,
    },
  });
  if (options.onEvent) gateway.subscribe(options.onEvent);
  gateway.start(config.instruments);
  return {
    gateway,
    close: (deadlineMs) => gateway.close(deadlineMs),
  };
}
