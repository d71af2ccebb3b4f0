import type { InstrumentConfig } from '../../src-shared/config';
import type { Clock } from '../protocols/clock';
import { createClientLink, type ConnectFactory } from './client-link';
import { createServerLink, type ListenFactory } from './server-link';
import type { HandlerFactory, Link, LinkEvent } from './types';

/** The configuration fields a link reads. */
export type InstrumentLinkConfig = Pick<
  InstrumentConfig,
  | 'id'
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
}

/** The server or client link an instrument's configuration describes; not started yet. */
export function createInstrumentLink(config: InstrumentLinkConfig, deps: InstrumentLinkDeps): Link {
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
