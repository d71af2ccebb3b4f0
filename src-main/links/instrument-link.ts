import type { InstrumentConfig } from '../../src-shared/config';
import type { Clock } from '../protocols/clock';
import { createClientLink, type ConnectFactory } from './client-link';
import { createSerialLink, SERIAL_MAX_RETRY_MS } from './serial-link';
import type { SerialPorts } from './serial-stream';
import { createServerLink, type ListenFactory } from './server-link';
import type { HandlerFactory, Link, LinkEvent } from './types';

/** The configuration fields a link reads. */
export type InstrumentLinkConfig = Pick<
  InstrumentConfig,
  | 'id'
  | 'transport'
  | 'serial'
  | 'mode'
  | 'host'
  | 'port'
  | 'maxConnections'
  | 'allowedPeers'
  | 'connectTimeoutMs'
  | 'reconnect'
  | 'keepAliveMs'
  | 'idleTimeoutMs'
  | 'maxBufferedBytes'
>;

export interface InstrumentLinkDeps {
  handlerFactory: HandlerFactory;
  onEvent?: (event: LinkEvent) => void;
  clock?: Clock;
  random?: () => number;
  listen?: ListenFactory;
  connect?: ConnectFactory;
  serialPorts?: SerialPorts;
}

/** The server, client or serial link an instrument's configuration describes; not started yet. */
export function createInstrumentLink(config: InstrumentLinkConfig, deps: InstrumentLinkDeps): Link {
  if (config.transport === 'serial') {
    if (!config.serial) throw new Error(`instrument ${config.id}: a serial link needs "serial"`);
    return createSerialLink({
      id: config.id,
      serial: config.serial,
      idleTimeoutMs: config.idleTimeoutMs,
      maxBufferedBytes: config.maxBufferedBytes,
      // The configured backoff, capped at a few seconds: a port comes back as soon as it is plugged in.
      reconnect: {
        ...config.reconnect,
        maxDelayMs: Math.min(config.reconnect.maxDelayMs, SERIAL_MAX_RETRY_MS),
      },
      clock: deps.clock,
      random: deps.random,
      handlerFactory: deps.handlerFactory,
      onEvent: deps.onEvent,
      ports: deps.serialPorts,
    });
  }
  if (config.port === undefined)
    throw new Error(`instrument ${config.id}: a TCP link needs "port"`);
  const common = {
    id: config.id,
    host: config.host,
    port: config.port,
    keepAliveMs: config.keepAliveMs,
    idleTimeoutMs: config.idleTimeoutMs,
    maxBufferedBytes: config.maxBufferedBytes,
    clock: deps.clock,
    random: deps.random,
    handlerFactory: deps.handlerFactory,
    onEvent: deps.onEvent,
  };
  if (config.mode === 'server') {
    return createServerLink({
      ...common,
      maxConnections: config.maxConnections,
      allowedPeers: config.allowedPeers,
      listen: deps.listen,
    });
  }
  return createClientLink({
    ...common,
    connectTimeoutMs: config.connectTimeoutMs,
    reconnect: config.reconnect,
    connect: deps.connect,
  });
}
