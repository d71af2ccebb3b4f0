/**
 * The contract, served from the main side: validates each request, runs it against the gateway
 * and the store, and turns gateway events into coalesced contract events. The Electron IPC wiring
 * and the WebSocket bridge both carry this one object.
 */
import net from 'node:net';
import {
  instrumentConfigSchema,
  describeIssues,
  type InstrumentConfig,
} from '../../src-shared/config';
import {
  parseRequest,
  type CommandError,
  type CommandName,
  type CommandRequest,
  type CommandResponse,
  type CommandResult,
  type LogEntryView,
  type MessageQuery,
  type StoredMessageEvent,
} from '../../src-shared/contract';
import type { InstrumentStatus } from '../../src-shared/status';
import type { Gateway } from '../gateway/gateway';
import type { Clock } from '../protocols/clock';
import type { Store } from '../store/store';
import type { MessageFilter, MessageSummary, StoredEvent } from '../store/types';
import { systemClock } from '../system-clock';
import { parseAstmForView, parseHl7ForView } from './parsed';
import type { CommandService, ServiceEvent } from './types';

/** A command that cannot be carried out, in plain words; `fields` point at form inputs. */
export class CommandFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly fields?: { field: string; message: string }[],
  ) {
    super(message);
  }
}

export interface CommandServiceDeps {
  gateway: Gateway;
  store: Store;
  runtime: 'electron' | 'browser';
  version: string;
  clock?: Clock;
  /** Starts the built-in demo instruments; absent where the demo is not offered. */
  startDemo?: () => Promise<{ instrumentIds: string[] }>;
  /** How often batched events are sent at most (ms); default 100, so ≤ 10 batches a second. */
  coalesceMs?: number;
  /** How often statistics are pushed; default 10 s. */
  statsEveryMs?: number;
}

type Handlers = {
  [C in CommandName]: (
    request: CommandRequest<C>,
  ) => Promise<CommandResponse<C>> | CommandResponse<C>;
};

const HOUR = 3600_000;
const MINUTE = 60_000;

export function createCommandService(deps: CommandServiceDeps): CommandService & {
  close(): void;
} {
  const { gateway, store } = deps;
  const clock = deps.clock ?? systemClock;
  const handlers: Handlers = {
    getAppInfo: () => ({
      version: deps.version,
      runtime: deps.runtime,
      dbFile: store.file,
      demoAvailable: deps.startDemo !== undefined,
    }),
    listInstruments: () => gateway.statuses(),
    getInstrument: ({ id }) => {
      const config = gateway.config(id);
      const status = gateway.status(id);
      if (!config || !status) throw notFound(id);
      return { config, status };
    },
    createInstrument: ({ config }) => {
      const parsed = validateConfig(config);
      if (gateway.status(parsed.id)) {
        throw new CommandFailure(
          'DUPLICATE_ID',
          `an instrument with the id "${parsed.id}" already exists`,
          [{ field: 'id', message: `"${parsed.id}" is already used by another instrument` }],
        );
      }
      checkPortFree(gateway, parsed);
      gateway.addInstrument(parsed);
      return gateway.status(parsed.id)!;
    },
    updateInstrument: async ({ config }) => {
      const parsed = validateConfig(config);
      if (!gateway.status(parsed.id)) throw notFound(parsed.id);
      checkPortFree(gateway, parsed);
      await gateway.updateInstrument(parsed);
      return gateway.status(parsed.id)!;
    },
    deleteInstrument: async ({ id }) => {
      if (!gateway.status(id)) throw notFound(id);
      await gateway.removeInstrument(id);
      return { ok: true as const };
    },
    setInstrumentEnabled: async ({ id, enabled }) => {
      if (!gateway.status(id)) throw notFound(id);
      await gateway.setEnabled(id, enabled);
      return gateway.status(id)!;
    },
    reconnectInstrument: ({ id }) => {
      const status = gateway.status(id);
      if (!status) throw notFound(id);
      if (!status.enabled) {
        throw new CommandFailure('DISABLED', `"${status.name}" is disabled; enable it first`);
      }
      gateway.reconnect(id);
      return { ok: true as const };
    },
    disconnectInstrument: ({ id }) => {
      if (!gateway.status(id)) throw notFound(id);
      gateway.disconnect(id);
      return { ok: true as const };
    },
    testConnection: ({ host, port, timeoutMs }) => testConnection(host, port, timeoutMs ?? 3_000),
    queryMessages: (query) => {
      const page = store.queryMessages(toFilter(query));
      return { items: page.items.map(summaryView), nextCursor: page.nextCursor };
    },
    getMessage: ({ id }) => {
      const message = store.getMessage(id);
      if (!message)
        throw new CommandFailure(
          'NOT_FOUND',
          `message ${id} does not exist (it may have been purged)`,
        );
      const previous = store.queryMessages({
        instrumentId: message.instrumentId,
        to: message.receivedAt,
        limit: 1,
      }).items[0];
      const from = Math.max(
        message.receivedAt - 5 * MINUTE,
        previous ? previous.receivedAt + 1 : 0,
      );
      const trace = store.getTrace({
        instrumentId: message.instrumentId,
        from,
        to: message.receivedAt + 2_000,
        limit: 500,
      });
      return {
        ...summaryView(message),
        text: message.text,
        raw: Buffer.from(message.raw).toString('base64'),
        results: message.results,
        errors: message.errors.map((e) => ({ code: e.code, message: e.message })),
        parsed:
          message.protocol === 'astm'
            ? parseAstmForView(message.text)
            : parseHl7ForView(message.text),
        trace: trace.items.map((t) => ({
          at: t.at,
          direction: t.direction,
          connectionId: t.connectionId,
          bytes: Buffer.from(t.bytes).toString('base64'),
        })),
      };
    },
    listEvents: (query) => {
      const page = store.listEvents({
        ...(query.instrumentId ? { instrumentId: query.instrumentId } : {}),
        ...(query.level ? { level: query.level } : {}),
        ...(query.kind ? { kind: query.kind } : {}),
        ...(query.from !== undefined ? { from: query.from } : {}),
        ...(query.to !== undefined ? { to: query.to } : {}),
        ...(query.cursor ? { cursor: query.cursor } : {}),
        ...(query.limit ? { limit: query.limit } : {}),
      });
      return { items: page.items.map(eventView), nextCursor: page.nextCursor };
    },
    getStats: () => stats(),
    exportMessages: ({ query, format, max }) =>
      exportMessages(store, query, format, max ?? 100_000),
    startDemo: async () => {
      if (!deps.startDemo) {
        throw new CommandFailure('NOT_AVAILABLE', 'the demo instruments are not available here');
      }
      return deps.startDemo();
    },
  };

  function stats(): CommandResponse<'getStats'> {
    const now = clock.now();
    const since = Math.floor((now - HOUR) / MINUTE) * MINUTE + MINUTE;
    const traffic = store.stats({ since, bucketMs: MINUTE, until: since + HOUR });
    return {
      at: now,
      instruments: traffic.instruments.map((t) => ({
        instrumentId: t.instrumentId,
        perMinute: t.in.map((count, i) => count + (t.out[i] ?? 0)),
        lastHourIn: t.in.reduce((a, b) => a + b, 0),
        lastHourOut: t.out.reduce((a, b) => a + b, 0),
      })),
    };
  }

  // Coalescing: events collect here and leave together at most every `coalesceMs`.
  const listeners = new Set<(event: ServiceEvent) => void>();
  /** Per instrument, each state it passed through since the last batch (newest details kept). */
  const statuses = new Map<string, InstrumentStatus[]>();
  let stored: StoredMessageEvent[] = [];
  let logged: LogEntryView[] = [];
  let flushCancel: (() => void) | null = null;
  const coalesceMs = deps.coalesceMs ?? 100;

  const send = (event: ServiceEvent): void => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        process.emitWarning(`event listener failed: ${String(error)}`);
      }
    }
  };
  const flush = (): void => {
    flushCancel = null;
    if (statuses.size > 0) {
      send({ name: 'linkStatus', payload: { statuses: [...statuses.values()].flat() } });
      statuses.clear();
    }
    if (stored.length > 0) {
      send({ name: 'messagesStored', payload: { messages: stored } });
      stored = [];
    }
    if (logged.length > 0) {
      send({ name: 'logged', payload: { entries: logged } });
      logged = [];
    }
  };
  const schedule = (): void => {
    if (!flushCancel && listeners.size > 0) flushCancel = clock.schedule(coalesceMs, flush);
  };
  const unsubscribeGateway = gateway.subscribe((event) => {
    if (listeners.size === 0) return;
    switch (event.type) {
      case 'status': {
        // A brief state (Connecting between two Connected) is kept so the UI can show it.
        const queue = statuses.get(event.status.id) ?? [];
        const last = queue.at(-1);
        if (last && last.state === event.status.state) queue[queue.length - 1] = event.status;
        else if (queue.length < 8) queue.push(event.status);
        else queue[queue.length - 1] = event.status;
        statuses.set(event.status.id, queue);
        break;
      }
      case 'messageStored':
        // Past a few thousand per batch the renderer only needs to know that more arrived.
        if (stored.length < 5_000) stored.push(event.message);
        break;
      case 'log':
        if (logged.length < 5_000) logged.push(event.entry);
        break;
      case 'instrumentRemoved':
        statuses.delete(event.id);
        send({ name: 'instrumentRemoved', payload: { id: event.id } });
        return;
    }
    schedule();
  });
  let statsCancel: (() => void) | null = null;
  const statsEvery = deps.statsEveryMs ?? 10_000;
  const tickStats = (): void => {
    statsCancel = clock.schedule(statsEvery, tickStats);
    if (listeners.size > 0) {
      try {
        send({ name: 'statsTick', payload: stats() });
      } catch (error) {
        process.emitWarning(`statistics failed: ${String(error)}`);
      }
    }
  };
  statsCancel = clock.schedule(statsEvery, tickStats);

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
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      unsubscribeGateway();
      flushCancel?.();
      statsCancel?.();
      listeners.clear();
    },
  };
}

function notFound(id: string): CommandFailure {
  return new CommandFailure('NOT_FOUND', `no instrument with the id "${id}"`);
}

function validateConfig(input: unknown): InstrumentConfig {
  const parsed = instrumentConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const fields = describeIssues(parsed.error);
  throw new CommandFailure(
    'INVALID_CONFIG',
    `the instrument settings are not valid: ${fields.map((f) => `${f.field} ${f.message}`).join('; ')}`,
    fields,
  );
}

function checkPortFree(gateway: Gateway, config: InstrumentConfig): void {
  if (config.mode !== 'server' || !config.enabled) return;
  for (const other of gateway.statuses()) {
    if (other.id === config.id || other.mode !== 'server' || !other.enabled) continue;
    if (other.port === config.port && other.host === config.host) {
      throw new CommandFailure(
        'PORT_IN_USE',
        `port ${config.port} is already used by "${other.name}"`,
        [{ field: 'port', message: `already used by "${other.name}"` }],
      );
    }
  }
}

function toCommandError(error: unknown): CommandError {
  if (error instanceof CommandFailure) {
    return {
      code: error.code,
      message: error.message,
      ...(error.fields ? { fields: error.fields } : {}),
    };
  }
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'string') {
    return { code: error.code, message: String((error as { message?: unknown }).message ?? error) };
  }
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}

function toFilter(
  query: Omit<MessageQuery, 'cursor' | 'limit'> & {
    cursor?: string | null | undefined;
    limit?: number | undefined;
  },
): MessageFilter {
  const filter: MessageFilter = {};
  if (query.instrumentId) filter.instrumentId = query.instrumentId;
  if (query.protocol) filter.protocol = query.protocol;
  if (query.direction) filter.direction = query.direction;
  if (query.status) filter.status = query.status;
  if (query.from !== undefined) filter.from = query.from;
  if (query.to !== undefined) filter.to = query.to;
  if (query.search?.trim()) filter.search = query.search.trim();
  if (query.cursor) filter.cursor = query.cursor;
  if (query.limit) filter.limit = query.limit;
  if (query.order) filter.order = query.order;
  return filter;
}

function summaryView(m: MessageSummary) {
  return {
    id: m.id,
    instrumentId: m.instrumentId,
    protocol: m.protocol,
    direction: m.direction,
    receivedAt: m.receivedAt,
    controlId: m.controlId,
    sampleIds: m.sampleIds,
    patientIds: m.patientIds,
    testCodes: m.testCodes,
    status: m.status,
    ack: m.ack,
    resultCount: m.resultCount,
    errorCount: m.errorCount,
    preview: m.preview,
    size: m.size,
  };
}

function eventView(e: StoredEvent): LogEntryView {
  return {
    id: e.id,
    at: e.at,
    instrumentId: e.instrumentId,
    level: e.level,
    kind: e.kind,
    code: e.code,
    message: e.message,
  };
}

function testConnection(
  host: string,
  port: number,
  timeoutMs: number,
): Promise<CommandResponse<'testConnection'>> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean, message: string) => {
      socket.destroy();
      resolve({ ok, message, elapsedMs: Math.round(performance.now() - started) });
    };
    socket.setTimeout(timeoutMs, () =>
      done(
        false,
        `no answer from ${host}:${port} within ${timeoutMs} ms (is the analyzer on and reachable?)`,
      ),
    );
    socket.once('connect', () => done(true, `${host}:${port} accepted a connection`));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      const why =
        error.code === 'ECONNREFUSED'
          ? 'nothing is listening on that port (connection refused)'
          : error.code === 'ENOTFOUND'
            ? 'the host name is unknown'
            : error.code === 'EHOSTUNREACH' || error.code === 'ENETUNREACH'
              ? 'the host cannot be reached from this computer'
              : (error.code ?? error.message);
      done(false, `could not connect to ${host}:${port}: ${why}`);
    });
  });
}

const CSV_COLUMNS = [
  'messageId',
  'instrumentId',
  'receivedAt',
  'sampleId',
  'patientId',
  'testCode',
  'value',
  'units',
  'flags',
  'status',
  'observedAt',
] as const;

function csvCell(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  // Leading = + - @ would be run as formulas by spreadsheets.
  const safe = /^[=+\-@]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function exportMessages(
  store: Store,
  query: Omit<MessageQuery, 'cursor' | 'limit'>,
  format: 'csv' | 'json' | 'raw',
  max: number,
): CommandResponse<'exportMessages'> {
  const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
  const lines: string[] = format === 'csv' ? [CSV_COLUMNS.join(',')] : [];
  const raws: Buffer[] = [];
  const json: unknown[] = [];
  let cursor: string | null = null;
  let count = 0;
  do {
    const page = store.queryMessages({
      ...toFilter(query),
      limit: 500,
      ...(cursor ? { cursor } : {}),
    });
    for (const summary of page.items) {
      if (count >= max) break;
      const message = store.getMessage(summary.id);
      if (!message) continue;
      count++;
      const receivedAt = new Date(message.receivedAt).toISOString();
      if (format === 'csv') {
        for (const r of message.results) {
          lines.push(
            [
              message.id,
              message.instrumentId,
              receivedAt,
              r.sampleId,
              r.patientId,
              r.testCode,
              r.value,
              r.units,
              r.flags,
              r.status,
              r.observedAt,
            ]
              .map(csvCell)
              .join(','),
          );
        }
      } else if (format === 'json') {
        json.push({
          id: message.id,
          instrumentId: message.instrumentId,
          protocol: message.protocol,
          direction: message.direction,
          receivedAt,
          controlId: message.controlId,
          status: message.status,
          ack: message.ack,
          text: message.text,
          results: message.results,
          errors: message.errors,
        });
      } else {
        raws.push(Buffer.from(message.raw));
      }
    }
    cursor = count >= max ? null : page.nextCursor;
  } while (cursor);
  if (format === 'csv') {
    return {
      fileName: `results-${stamp}.csv`,
      mimeType: 'text/csv',
      content: `${lines.join('\r\n')}\r\n`,
      encoding: 'utf8',
      count,
    };
  }
  if (format === 'json') {
    return {
      fileName: `messages-${stamp}.json`,
      mimeType: 'application/json',
      content: JSON.stringify(json, null, 2),
      encoding: 'utf8',
      count,
    };
  }
  return {
    fileName: `messages-${stamp}.bin`,
    mimeType: 'application/octet-stream',
    content: Buffer.concat(raws).toString('base64'),
    encoding: 'base64',
    count,
  };
}
