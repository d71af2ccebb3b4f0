/**
 * The composition root: builds the store, the gateway and the command service from a validated
 * configuration. The Electron shell and the headless CLI both start here; `close()` disposes in
 * reverse order.
 */
import {
  instrumentConfigSchema,
  storageConfigSchema,
  type GatewayConfig,
  type InstrumentConfig,
} from '../src-shared/config';
import type { GatewayListener } from './gateway/events';
import { Gateway } from './gateway/gateway';
import type { Clock } from './protocols/clock';
import { createCommandService } from './service/service';
import type { CommandService } from './service/types';
import { openStore, type Store } from './store/store';

export interface GatewayRuntimeOptions {
  /**
   * Instruments and storage settings. Without it the instruments saved in the database (edited
   * in the UI) are started, with default storage settings.
   */
  config?: GatewayConfig;
  dbFile: string;
  /** better_sqlite3.node built for the running runtime, when it is not Node's. */
  nativeBinding?: string;
  onEvent?: GatewayListener;
  clock?: Clock;
  runtime?: 'electron' | 'browser';
  version?: string;
  /** Offered to the UI as "Start demo instruments". */
  startDemo?: (gateway: Gateway) => Promise<{ instrumentIds: string[] }>;
  /** Told about saved instruments that could not be started (their settings are invalid). */
  onSkippedInstrument?: (id: string, problem: string) => void;
}

export interface GatewayRuntime {
  gateway: Gateway;
  store: Store;
  service: CommandService;
  close(deadlineMs?: number): Promise<void>;
}

/** Saved instruments, validated again: an edited or older record must not stop the others. */
export function savedInstruments(
  store: Store,
  onSkipped?: (id: string, problem: string) => void,
): InstrumentConfig[] {
  const out: InstrumentConfig[] = [];
  for (const record of store.listInstruments()) {
    const parsed = instrumentConfigSchema.safeParse(record.config);
    if (parsed.success) out.push(parsed.data);
    else onSkipped?.(record.id, parsed.error.issues.map((i) => i.message).join('; '));
  }
  return out;
}

export function createGatewayRuntime(options: GatewayRuntimeOptions): GatewayRuntime {
  const storage = options.config?.storage ?? storageConfigSchema.parse({});
  const store = openStore({
    file: options.dbFile,
    durability: storage.durability,
    ...(options.nativeBinding ? { nativeBinding: options.nativeBinding } : {}),
  });
  const gateway = new Gateway({
    store,
    ...(options.clock ? { clock: options.clock } : {}),
    retention: { messagesDays: storage.retentionDays, traceDays: storage.traceRetentionDays },
  });
  if (options.onEvent) gateway.subscribe(options.onEvent);
  const instruments =
    options.config?.instruments ?? savedInstruments(store, options.onSkippedInstrument);
  if (options.config) {
    // The config file is the source of truth for its instruments; saved ones it no longer
    // names are forgotten so the UI shows what runs.
    const named = new Set(instruments.map((i) => i.id));
    for (const record of store.listInstruments()) {
      if (!named.has(record.id)) store.deleteInstrument(record.id);
    }
  }
  gateway.start(instruments);
  const startDemo = options.startDemo;
  const service = createCommandService({
    gateway,
    store,
    runtime: options.runtime ?? 'browser',
    version: options.version ?? '0.0.0',
    ...(options.clock ? { clock: options.clock } : {}),
    ...(startDemo ? { startDemo: () => startDemo(gateway) } : {}),
  });
  return {
    gateway,
    store,
    service,
    close: async (deadlineMs) => {
      service.close();
      await gateway.close(deadlineMs);
    },
  };
}
