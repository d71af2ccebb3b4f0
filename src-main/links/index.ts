export { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff';
export { createClientLink, type ClientLinkOptions, type ConnectFactory } from './client-link';
export {
  createInstrumentLink,
  type InstrumentLinkConfig,
  type InstrumentLinkDeps,
} from './instrument-link';
export {
  DEFAULT_PROBE_TIMEOUT_MS,
  probeConnection,
  probeSerialPort,
  probeTarget,
  type AnyProbeTarget,
  type ProbeCode,
  type ProbeDeps,
  type ProbeResult,
  type ProbeTarget,
} from './probe';
export { createSerialLink, type SerialLinkOptions } from './serial-link';
export { listSerialPorts, systemSerialPorts } from './serial-ports';
export type { SerialPortHandle, SerialPorts } from './serial-stream';
export {
  createServerLink,
  type ListenFactory,
  type ServerLink,
  type ServerLinkOptions,
} from './server-link';
export type {
  ConnectionHandler,
  HandlerFactory,
  Link,
  LinkCloseCode,
  LinkCloseReason,
  LinkConnection,
  LinkErrorCode,
  LinkEvent,
  LinkOptions,
  LinkState,
  LinkStatus,
} from './types';
export { formatBytes, formatDuration, normalizeAddress } from './words';
