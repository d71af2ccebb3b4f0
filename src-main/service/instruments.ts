/**
 * Instrument commands and their rules: settings validated in plain words, unique ids and ports,
 * and instruments of the configuration file kept read-only (they are changed in the file).
 */
import {
  describeIssues,
  instrumentConfigSchema,
  type InstrumentConfig,
} from '../../src-shared/config';
import type { CommandRequest, CommandResponse } from '../../src-shared/contract';
import type { SerialPortInfo } from '../../src-shared/serial';
import type { Gateway } from '../gateway/gateway';
import { CommandFailure } from './failure';
import type { CommandHandlers } from './handlers';

/** What the instrument commands ask of the gateway. */
export type InstrumentControl = Pick<
  Gateway,
  | 'statuses'
  | 'status'
  | 'config'
  | 'source'
  | 'addInstrument'
  | 'updateInstrument'
  | 'removeInstrument'
  | 'setEnabled'
  | 'reconnect'
  | 'disconnect'
  | 'acknowledgeAlarms'
>;

/** Tries a TCP connection without disturbing any link (the links layer owns sockets). */
export type ConnectionProbe = (
  target: CommandRequest<'testConnection'>,
) => Promise<CommandResponse<'testConnection'>>;

export interface InstrumentCommandDeps {
  gateway: InstrumentControl;
  probe: ConnectionProbe;
  /** The machine's serial ports; absent where they cannot be listed. */
  serialPorts?: (() => Promise<SerialPortInfo[]>) | undefined;
  /** The configuration file the gateway was started with, named when refusing to edit its instruments. */
  configFile?: string | undefined;
  /** Ports the gateway itself listens on (the web UI, order sources), never an instrument's. */
  reservedPorts?: (() => readonly ReservedPort[]) | undefined;
}

export interface ReservedPort {
  host: string;
  port: number;
  /** "the web UI", "the order source lis1". */
  what: string;
}

export type InstrumentCommand =
  | 'listInstruments'
  | 'getInstrument'
  | 'createInstrument'
  | 'updateInstrument'
  | 'deleteInstrument'
  | 'setInstrumentEnabled'
  | 'reconnectInstrument'
  | 'disconnectInstrument'
  | 'acknowledgeAlarms'
  | 'testConnection'
  | 'listSerialPorts';

export function instrumentCommands(
  deps: InstrumentCommandDeps,
): CommandHandlers<InstrumentCommand> {
  const { gateway } = deps;

  const existing = (id: string) => {
    const status = gateway.status(id);
    if (!status) throw new CommandFailure('NOT_FOUND', `no instrument with the id "${id}"`);
    return status;
  };
  /** Settings that come from the configuration file are changed there, never lost here. */
  const editable = (id: string) => {
    const status = existing(id);
    if (gateway.source(id) === 'file') {
      const where = deps.configFile
        ? `the configuration file ${deps.configFile}`
        : 'its configuration file';
      throw new CommandFailure(
        'MANAGED_BY_FILE',
        `"${status.name}" is set up in ${where}; change it there and restart the gateway`,
      );
    }
    return status;
  };

  return {
    listInstruments: () => gateway.statuses(),
    getInstrument: ({ id }) => {
      const status = existing(id);
      return { config: gateway.config(id)!, status };
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
      checkPortFree(gateway, parsed, deps.reservedPorts?.() ?? []);
      gateway.addInstrument(parsed, 'app');
      return gateway.status(parsed.id)!;
    },
    updateInstrument: async ({ config }) => {
      const parsed = validateConfig(config);
      editable(parsed.id);
      checkPortFree(gateway, parsed, deps.reservedPorts?.() ?? []);
      await gateway.updateInstrument(parsed);
      return gateway.status(parsed.id)!;
    },
    deleteInstrument: async ({ id }) => {
      editable(id);
      await gateway.removeInstrument(id);
      return { ok: true as const };
    },
    setInstrumentEnabled: async ({ id, enabled }) => {
      editable(id);
      await gateway.setEnabled(id, enabled);
      return gateway.status(id)!;
    },
    reconnectInstrument: ({ id }) => {
      const status = existing(id);
      if (!status.enabled) {
        throw new CommandFailure('DISABLED', `"${status.name}" is disabled; enable it first`);
      }
      gateway.reconnect(id);
      return { ok: true as const };
    },
    disconnectInstrument: ({ id }) => {
      existing(id);
      gateway.disconnect(id);
      return { ok: true as const };
    },
    acknowledgeAlarms: ({ id }) => {
      existing(id);
      gateway.acknowledgeAlarms(id);
      return gateway.status(id)!;
    },
    testConnection: (target) => {
      // A port this gateway holds open cannot be opened a second time; its link says how it is.
      if ('serial' in target) {
        const holder = gateway
          .statuses()
          .find((s) => s.serial?.path === target.serial.path && s.state === 'connected');
        if (holder)
          return {
            ok: true,
            message: `${target.serial.path} is open: the link of "${holder.name}" in this gateway uses it`,
            elapsedMs: 0,
          };
      }
      return deps.probe(target);
    },
    listSerialPorts: async () => {
      if (!deps.serialPorts)
        return { ports: [], problem: 'the serial ports of this computer cannot be listed here' };
      try {
        return { ports: await deps.serialPorts(), problem: null };
      } catch (error) {
        return {
          ports: [],
          problem: `the serial ports could not be listed: ${error instanceof Error ? error.message : String(error)}`,
        };
      }
    },
  };
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

/** Two listeners clash on one port when either takes every address or both take the same. */
function sameListener(a: string, b: string): boolean {
  const any = (host: string) => host === '0.0.0.0' || host === '::' || host === '';
  return a === b || any(a) || any(b);
}

function checkPortFree(
  gateway: InstrumentControl,
  config: InstrumentConfig,
  reserved: readonly ReservedPort[],
): void {
  if (config.serial && config.transport === 'serial' && config.enabled) {
    const path = config.serial.path;
    for (const other of gateway.statuses()) {
      if (other.id === config.id || !other.enabled || other.serial?.path !== path) continue;
      throw new CommandFailure(
        'PORT_IN_USE',
        `the serial port ${path} is already used by "${other.name}"`,
        [{ field: 'serial.path', message: `already used by "${other.name}"` }],
      );
    }
    return;
  }
  if (config.mode !== 'server' || !config.enabled) return;
  for (const taken of reserved) {
    if (taken.port === config.port && sameListener(taken.host, config.host)) {
      throw new CommandFailure(
        'PORT_IN_USE',
        `port ${config.port} is used by ${taken.what} of this gateway; choose another port for the analyzer`,
        [{ field: 'port', message: `used by ${taken.what} of this gateway` }],
      );
    }
  }
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
