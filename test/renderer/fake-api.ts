import { vi, type Mock } from 'vitest';
import type {
  CommandName,
  CommandResult,
  EventName,
  EventPayload,
  GatewayApi,
} from '../../src-shared/contract';
import { subscriberName } from '../../src-shared/contract';
import type { InstrumentConfig } from '../../src-shared/config';
import { instrumentConfigSchema } from '../../src-shared/config';
import type { InstrumentStatus } from '../../src-shared/status';

export type FakeCommands = { [C in CommandName]: Mock<GatewayApi[C]> };

export interface FakeApi {
  api: GatewayApi;
  commands: FakeCommands;
  /** Delivers an event to every listener, as the transport would. */
  emit<E extends EventName>(event: E, payload: EventPayload<E>): void;
  listenerCount(event: EventName): number;
}

const ok = <C extends CommandName>(value: CommandResult<C> & { ok: true }) => value;

/** A gateway whose commands answer with harmless defaults until a test says otherwise. */
export function createFakeApi(): FakeApi {
  const listeners = new Map<EventName, Set<(payload: unknown) => void>>();
  const answer =
    <C extends CommandName>(value: (CommandResult<C> & { ok: true })['value']) =>
    async (): Promise<CommandResult<C>> =>
      ok<C>({ ok: true, value });

  const commands: FakeCommands = {
    getAppInfo: vi.fn(
      answer<'getAppInfo'>({
        version: '0.1.0',
        runtime: 'browser',
        dbFile: '/data/gateway.db',
        configFile: null,
        demoAvailable: true,
      }),
    ),
    listInstruments: vi.fn(answer<'listInstruments'>([])),
    getInstrument: vi.fn(async ({ id }) => ({
      ok: false as const,
      error: { code: 'NOT_FOUND', message: `no instrument "${id}"` },
    })),
    createInstrument: vi.fn(async ({ config }) => ({
      ok: true as const,
      value: makeStatus({ id: (config as InstrumentConfig).id }),
    })),
    updateInstrument: vi.fn(async ({ config }) => ({
      ok: true as const,
      value: makeStatus({ id: (config as InstrumentConfig).id }),
    })),
    deleteInstrument: vi.fn(answer<'deleteInstrument'>({ ok: true })),
    setInstrumentEnabled: vi.fn(async ({ id, enabled }) => ({
      ok: true as const,
      value: makeStatus({ id, enabled, state: enabled ? 'connecting' : 'disabled' }),
    })),
    reconnectInstrument: vi.fn(answer<'reconnectInstrument'>({ ok: true })),
    disconnectInstrument: vi.fn(answer<'disconnectInstrument'>({ ok: true })),
    listHistoryInstruments: vi.fn(answer<'listHistoryInstruments'>([])),
    listSerialPorts: vi.fn(
      answer<'listSerialPorts'>({
        ports: [
          {
            path: '/dev/ttyUSB0',
            manufacturer: 'FTDI',
            serialNumber: 'A10K3XQ',
            vendorId: '0403',
            productId: '6001',
          },
        ],
        problem: null,
      }),
    ),
    acknowledgeAlarms: vi.fn(async ({ id }) => ({
      ok: true as const,
      value: makeStatus({ id, silent: false, lastError: null }),
    })),
    testConnection: vi.fn(
      answer<'testConnection'>({ ok: true, message: 'connected', elapsedMs: 3 }),
    ),
    previewProfile: vi.fn(answer<'previewProfile'>({ message: null })),
    queryMessages: vi.fn(answer<'queryMessages'>({ items: [], nextCursor: null })),
    getMessage: vi.fn(async () => ({
      ok: false as const,
      error: { code: 'NOT_FOUND', message: 'no such message' },
    })),
    listEvents: vi.fn(answer<'listEvents'>({ items: [], nextCursor: null })),
    getStats: vi.fn(answer<'getStats'>({ at: 0, instruments: [] })),
    exportMessages: vi.fn(
      answer<'exportMessages'>({
        fileName: 'messages.csv',
        count: null,
        savedTo: null,
        downloadUrl: null,
      }),
    ),
    startDemo: vi.fn(answer<'startDemo'>({ instrumentIds: [] })),
    listOrders: vi.fn(answer<'listOrders'>([])),
    addOrder: vi.fn(async () => ({
      ok: false as const,
      error: { code: 'NOT_AVAILABLE', message: 'no orders here' },
    })),
    cancelOrder: vi.fn(async () => ({
      ok: false as const,
      error: { code: 'NOT_FOUND', message: 'no such order' },
    })),
    getOrderHistory: vi.fn(answer<'getOrderHistory'>([])),
    getPendingOrderCounts: vi.fn(answer<'getPendingOrderCounts'>({})),
    listDestinations: vi.fn(answer<'listDestinations'>([])),
    createDestination: vi.fn(async () => ({
      ok: false as const,
      error: { code: 'NOT_AVAILABLE', message: 'no destinations here' },
    })),
    updateDestination: vi.fn(async () => ({
      ok: false as const,
      error: { code: 'NOT_FOUND', message: 'no such destination' },
    })),
    deleteDestination: vi.fn(answer<'deleteDestination'>({ ok: true })),
    holdDestination: vi.fn(async ({ id }) => ({
      ok: false as const,
      error: { code: 'NOT_FOUND', message: `no destination "${id}"` },
    })),
    releaseDestination: vi.fn(async ({ id }) => ({
      ok: false as const,
      error: { code: 'NOT_FOUND', message: `no destination "${id}"` },
    })),
    retryFailed: vi.fn(answer<'retryFailed'>({ resent: 0 })),
    resendMessage: vi.fn(answer<'resendMessage'>({ resent: 0 })),
    listOutbox: vi.fn(answer<'listOutbox'>([])),
    getMessageForwarding: vi.fn(answer<'getMessageForwarding'>([])),
    listOrderSources: vi.fn(answer<'listOrderSources'>([])),
  };

  const subscribe = (event: EventName) => (listener: (payload: unknown) => void) => {
    let set = listeners.get(event);
    if (!set) listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  };

  const api = {
    ...commands,
    [subscriberName('linkStatus')]: subscribe('linkStatus'),
    [subscriberName('messagesStored')]: subscribe('messagesStored'),
    [subscriberName('logged')]: subscribe('logged'),
    [subscriberName('statsTick')]: subscribe('statsTick'),
    [subscriberName('instrumentRemoved')]: subscribe('instrumentRemoved'),
    [subscriberName('destinationStatus')]: subscribe('destinationStatus'),
  } as unknown as GatewayApi;

  return {
    api,
    commands,
    emit(event, payload) {
      for (const listener of listeners.get(event) ?? []) listener(payload);
    },
    listenerCount(event) {
      return listeners.get(event)?.size ?? 0;
    },
  };
}

let nextPort = 5000;

export function makeStatus(overrides: Partial<InstrumentStatus> = {}): InstrumentStatus {
  const id = overrides.id ?? 'analyzer';
  return {
    id,
    name: overrides.name ?? id,
    protocol: 'astm',
    transport: 'tcp',
    mode: 'client',
    host: '10.0.0.5',
    port: nextPort++,
    serial: null,
    enabled: true,
    state: 'connected',
    since: Date.now() - 180_000,
    reason: 'connected to the analyzer',
    peers: [],
    nextRetryAt: null,
    lastActivityAt: null,
    lastMessageAt: null,
    counters: { day: localDay(Date.now()), messagesIn: 0, messagesOut: 0, errors: 0 },
    lastError: null,
    silent: false,
    storageFailing: false,
    disconnectedByUser: false,
    managedBy: 'app',
    ...overrides,
  };
}

export function makeConfig(overrides: Partial<InstrumentConfig> = {}): InstrumentConfig {
  return instrumentConfigSchema.parse({
    id: 'cobas',
    name: 'Cobas',
    protocol: 'astm',
    mode: 'client',
    host: '10.0.0.5',
    port: 5000,
    ...overrides,
  });
}

export function localDay(at: number): string {
  const date = new Date(at);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}
