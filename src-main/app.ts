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
import type { DeliverExport } from './service/exports';
import { createCommandService } from './service/service';
import type { CommandService } from './service/types';
import { openStore, type Store } from './store/store';
import type { InstrumentRecord } from './store/types';
import { probeConnection } from './links/probe';

export interface GatewayRuntimeOptions {
  /**
   * Instruments and storage settings from a configuration file. Its instruments run as the file
   * says and are read-only in the UI; instruments added in the UI are kept in the database and
   * started beside them. Without it, the instruments saved in the database are started, with
   * default storage settings.
   */
  config?: GatewayConfig;
  /** Where `config` was read from, named when the UI refuses to edit its instruments. */
  configFile?: string;
  dbFile: string;
  /** better_sqlite3.node built for the running runtime, when it is not Node's. */
  nativeBinding?: string;
  onEvent?: GatewayListener;
  clock?: Clock;
  runtime?: 'electron' | 'browser';
  version?: string;
  /** Offered to the UI as "Start demo instruments". */
  startDemo?: (gateway: Gateway) => Promise<{ instrumentIds: string[] }>;
  /** Where exports go: the desktop's save dialog, or the browser mode's downloads. */
  deliverExport?: DeliverExport;
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
  records: readonly InstrumentRecord[],
  onSkipped?: (id: string, problem: string) => void,
): InstrumentConfig[] {
  const out: InstrumentConfig[] = [];
  for (const record of records) {
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
  startInstruments(gateway, store, options);
  const startDemo = options.startDemo;
  const service = createCommandService({
    gateway,
    store,
    probe: (target) => probeConnection(target),
    runtime: options.runtime ?? 'browser',
    version: options.version ?? '0.0.0',
    configFile: options.configFile,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(startDemo ? { startDemo: () => startDemo(gateway) } : {}),
    ...(options.deliverExport ? { deliverExport: options.deliverExport } : {}),
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

/**
 * One model for instruments from the file and from the UI: the file's instruments run as the
 * file says (one it no longer names is forgotten); instruments added in the UI are kept and
 * started beside them. When the file now names an instrument the UI added, the file wins and
 * the settings it replaces are written to the event log, so nothing is lost without a word.
 */
function startInstruments(gateway: Gateway, store: Store, options: GatewayRuntimeOptions): void {
  const records = store.listInstruments();
  const fileInstruments = options.config?.instruments;
  if (!fileInstruments) {
    gateway.start(savedInstruments(records, options.onSkippedInstrument), 'app');
    return;
  }
  const inFile = new Set(fileInstruments.map((i) => i.id));
  const fromApp: InstrumentRecord[] = [];
  for (const record of records) {
    if (!inFile.has(record.id)) {
      if (record.source === 'file') store.deleteInstrument(record.id);
      else fromApp.push(record);
    } else if (record.source === 'app') {
      gateway.log(
        record.id,
        'warn',
        'config',
        'INSTRUMENT_REPLACED_BY_FILE',
        `the configuration file now sets up "${record.id}"; the settings saved in the app for it were replaced: ${JSON.stringify(record.config)}`,
      );
    }
  }
  gateway.start(fileInstruments, 'file');
  gateway.start(savedInstruments(fromApp, options.onSkippedInstrument), 'app');
}
