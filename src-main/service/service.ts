/**
 * The contract, served from the main side: validates each request, routes it to the feature
 * that owns it (instruments, history, exports, statistics) and turns gateway events into
 * coalesced contract events. The Electron IPC wiring and the WebSocket bridge both carry this
 * one object.
 */
import {
  parseRequest,
  type CommandName,
  type CommandResponse,
  type CommandResult,
} from '../../src-shared/contract';
import type { OrderSourceStatus } from '../../src-shared/orders';
import { localTimeZone } from '../../src-shared/time-zone';
import type { GatewayListener } from '../gateway/events';
import type { Clock } from '../protocols/clock';
import type { HistoryReader, OrderStore, OutboxStore } from '../store/store';
import { systemClock } from '../system-clock';
import { EventStream } from './events';
import { planExport, type DeliverExport } from './exports';
import { CommandFailure, toCommandError } from './failure';
import type { CommandHandlers } from './handlers';
import { historyCommands } from './history';
import {
  instrumentCommands,
  type ConnectionProbe,
  type InstrumentControl,
  type ReservedPort,
} from './instruments';
import { profileCommands } from './profiles';
import { orderCommands } from './orders';
import type { SerialPortInfo } from '../../src-shared/serial';
import { destinationViews, forwardingCommands, type ForwardingControl } from './forwarding';
import { lastHourStats } from './stats';
import type { CommandService, ServiceEvent } from './types';

/** For a gateway without destinations: nothing to list, every action names the missing one. */
const noForwarding: ForwardingControl = {
  statuses: () => [],
  config: () => null,
  sourceOf: () => null,
  add: () => {
    throw new CommandFailure('NOT_AVAILABLE', 'this gateway does not forward results');
  },
  update: () => Promise.reject(new CommandFailure('NOT_FOUND', 'no such destination')),
  remove: () => Promise.reject(new CommandFailure('NOT_FOUND', 'no such destination')),
  hold: (id) => {
    throw new Error(`no destination with the id "${id}"`);
  },
  release: (id) => {
    throw new Error(`no destination with the id "${id}"`);
  },
  retryFailed: () => 0,
  resend: () => 0,
};

export { CommandFailure };

export interface CommandServiceDeps {
  gateway: InstrumentControl & {
    subscribe(listener: GatewayListener): () => void;
    ordersArrived(): void;
  };
  store: HistoryReader & OrderStore & OutboxStore;
  /** Destinations and their outbox; absent: a gateway that forwards nothing. */
  forwarding?: ForwardingControl & { onChange(listener: (id: string) => void): () => void };
  /** Tries a TCP connection or opens a serial port for the instrument editor's "Test connection". */
  probe: ConnectionProbe;
  /** Lists the machine's serial ports for the instrument editor. */
  serialPorts?: () => Promise<SerialPortInfo[]>;
  runtime: 'electron' | 'browser';
  version: string;
  /** The configuration file the gateway was started with, if any. */
  configFile?: string | undefined;
  /** Ports the gateway itself listens on; the instrument editor refuses them. */
  reservedPorts?: () => readonly ReservedPort[];
  clock?: Clock;
  /** Where exports go (a save dialog, a download); absent where nothing can receive them. */
  deliverExport?: DeliverExport;
  /** Starts the built-in demo instruments; absent where the demo is not offered. */
  startDemo?: () => Promise<{ instrumentIds: string[] }>;
  /** How often batched events are sent at most (ms); default 100, so ≤ 10 batches a second. */
  coalesceMs?: number;
  /** How often statistics are pushed; default 10 s. */
  statsEveryMs?: number;
  /** The order sources' status for the dashboard; none when absent. */
  orderSources?: () => OrderSourceStatus[];
}

export function createCommandService(deps: CommandServiceDeps): CommandService & {
  close(): void;
} {
  const { gateway, store } = deps;
  const clock = deps.clock ?? systemClock;
  const stats = () => lastHourStats(store, clock);
  const handlers: CommandHandlers<CommandName> = {
    getAppInfo: () => ({
      version: deps.version,
      runtime: deps.runtime,
      dbFile: store.file,
      configFile: deps.configFile ?? null,
      demoAvailable: deps.startDemo !== undefined,
      timeZone: localTimeZone(),
    }),
    ...instrumentCommands({
      gateway,
      probe: deps.probe,
      serialPorts: deps.serialPorts,
      configFile: deps.configFile,
      reservedPorts: deps.reservedPorts,
    }),
    ...historyCommands(
      store,
      (id) => gateway.config(id),
      (id) => store.ordersResultedBy(id),
      (ids) => store.forwardingStates(ids),
    ),
    ...profileCommands(store),
    ...orderCommands(store, () => gateway.ordersArrived()),
    ...forwardingCommands(deps.forwarding ?? noForwarding, store, clock, deps.configFile),
    listOrderSources: () => deps.orderSources?.() ?? [],
    getStats: stats,
    listHistoryInstruments: () => {
      const current = gateway.statuses().map((s) => ({ id: s.id, name: s.name, removed: false }));
      const known = new Set(current.map((s) => s.id));
      const removed = store
        .messageInstrumentIds()
        .filter((id) => !known.has(id))
        .map((id) => ({ id, name: id, removed: true }));
      return [...current, ...removed];
    },
    exportMessages: async ({ query, format, max }) => {
      if (!deps.deliverExport) {
        throw new CommandFailure(
          'EXPORT_NOT_AVAILABLE',
          'exports are not available here: this gateway has nowhere to save them',
        );
      }
      return deps.deliverExport(
        planExport(store, query, format, max ?? 100_000, clock.now(), {
          instrumentName: (id) => gateway.status(id)?.name ?? null,
        }),
      );
    },
    startDemo: async () => {
      if (!deps.startDemo) {
        throw new CommandFailure('NOT_AVAILABLE', 'the demo instruments are not available here');
      }
      return deps.startDemo();
    },
  };
  const events = new EventStream({
    subscribe: (listener) => gateway.subscribe(listener),
    clock,
    stats,
    ...(deps.coalesceMs !== undefined ? { coalesceMs: deps.coalesceMs } : {}),
    ...(deps.statsEveryMs !== undefined ? { statsEveryMs: deps.statsEveryMs } : {}),
  });

  // Destination cards: every change, coalesced like the other events.
  const listeners = new Set<(event: ServiceEvent) => void>();
  let destinationsDue: (() => void) | null = null;
  const sendDestinations = () => {
    destinationsDue = null;
    if (!deps.forwarding || listeners.size === 0) return;
    let statuses;
    try {
      statuses = destinationViews(deps.forwarding, clock.now());
    } catch {
      return;
    }
    for (const listener of listeners) {
      try {
        listener({ name: 'destinationStatus', payload: { statuses } });
      } catch (error) {
        process.emitWarning(`event listener failed: ${String(error)}`);
      }
    }
  };
  const stopForwarding = deps.forwarding?.onChange(() => {
    destinationsDue ??= clock.schedule(deps.coalesceMs ?? 100, sendDestinations);
  });

  return {
    async dispatch<C extends CommandName>(command: C, payload: unknown): Promise<CommandResult<C>> {
      if (!Object.hasOwn(handlers, command)) {
        return {
          ok: false,
          error: { code: 'UNKNOWN_COMMAND', message: `unknown command "${String(command)}"` },
        };
      }
      const request = parseRequest(command, payload);
      if (!request.ok) return request;
      try {
        const handler = handlers[command] as (
          r: unknown,
        ) => Promise<CommandResponse<C>> | CommandResponse<C>;
        return { ok: true, value: await handler(request.value) };
      } catch (error) {
        return { ok: false, error: toCommandError(error) };
      }
    },
    subscribe: (listener) => {
      listeners.add(listener);
      const stop = events.subscribe(listener);
      return () => {
        listeners.delete(listener);
        stop();
      };
    },
    close: () => {
      stopForwarding?.();
      destinationsDue?.();
      events.close();
    },
  };
}
