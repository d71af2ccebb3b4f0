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
import { systemClock } from './system-clock';
import type { OrderDeskDeps } from './orders/order-desk';
import { createCommandService } from './service/service';
import type { ReservedPort } from './service/instruments';
import type { CommandService } from './service/types';
import { openStore, type Store } from './store/store';
import type { InstrumentRecord } from './store/types';
import { probeTarget } from './links/probe';
import { listSerialPorts } from './links/serial-ports';
import { OrderDesk } from './orders/order-desk';
import { OrderSource } from './orders/order-source';
import { Forwarder } from './forwarding/forwarder';

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
  /** Other ports this process listens on (the web UI), refused as an instrument's port. */
  reservedPorts?: () => readonly ReservedPort[];
}

export interface GatewayRuntime {
  gateway: Gateway;
  store: Store;
  orders: OrderDesk;
  orderSources: OrderSource[];
  forwarder: Forwarder;
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
  const clock = options.clock ?? systemClock;
  const instruments: { list: () => readonly InstrumentConfig[] } = { list: () => [] };
  const log: OrderDeskDeps['log'] = (instrumentId, level, code, message) =>
    gateway.log(instrumentId, level, 'orders', code, message);
  const orders = new OrderDesk({
    store,
    clock,
    instruments: () => instruments.list(),
    log,
    expiryDays: storage.orderExpiryDays,
  });
  const gateway = new Gateway({
    store,
    clock,
    orders,
    retention: { messagesDays: storage.retentionDays, traceDays: storage.traceRetentionDays },
  });
  instruments.list = () => gateway.configs();
  gateway.schedule(
    { name: 'order expiry', run: () => void orders.expire() },
    { every: 3600_000, firstInMs: 60_000 },
  );
  if (options.onEvent) gateway.subscribe(options.onEvent);
  startInstruments(gateway, store, options);
  const forwarder = new Forwarder({
    store,
    clock,
    instrument: (id) => gateway.config(id),
    log: (level, kind, code, message, destinationId) =>
      gateway.log(null, level, kind, code, `${destinationId}: ${message}`, { destinationId }),
  });
  forwarder.start(options.config?.destinations ?? []);
  const orderSources = (options.config?.orderSources ?? [])
    .filter((source) => source.enabled)
    .map(
      (config) =>
        new OrderSource(config, {
          store,
          clock,
          instrumentIds: () => new Set(gateway.configs().map((c) => c.id)),
          nextControlId: () => gateway.nextControlId(),
          log: (level, code, message) => log(config.id, level, code, message),
          ordersChanged: () => gateway.ordersArrived(),
          onLinkEvent: (event) => {
            if (event.type === 'error' || event.type === 'refused') {
              log(config.id, 'warn', event.code, event.message);
            }
          },
        }),
    );
  for (const source of orderSources) source.start();
  const startDemo = options.startDemo;
  const service = createCommandService({
    gateway,
    store,
    probe: (target) => probeTarget(target),
    serialPorts: listSerialPorts,
    runtime: options.runtime ?? 'browser',
    version: options.version ?? '0.0.0',
    configFile: options.configFile,
    forwarding: forwarder,
    reservedPorts: () => [
      ...(options.reservedPorts?.() ?? []),
      ...orderSources.map((source) => ({
        host: source.config.host,
        port: source.config.port,
        what: `the order source "${source.config.id}"`,
      })),
    ],
    ...(options.clock ? { clock: options.clock } : {}),
    ...(startDemo ? { startDemo: () => startDemo(gateway) } : {}),
    ...(options.deliverExport ? { deliverExport: options.deliverExport } : {}),
    orderSources: () => {
      const now = new Date(clock.now());
      const midnight = new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime();
      const today = store.orderCountsBySource(midnight);
      return orderSources.map((source) => {
        const status = source.status;
        return {
          id: source.config.id,
          host: source.config.host,
          port: source.config.port,
          state: status.state,
          since: status.since,
          reason: status.reason,
          peers: status.peers,
          ordersToday: today[source.config.id] ?? 0,
          lastOrderAt: source.lastOrderAt,
          lastError: source.lastError,
        };
      });
    },
  });
  return {
    gateway,
    store,
    orders,
    orderSources,
    forwarder,
    service,
    close: async (deadlineMs) => {
      service.close();
      await Promise.all(orderSources.map((source) => source.close(deadlineMs)));
      await forwarder.close();
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
