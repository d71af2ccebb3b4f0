import type { Clock } from '../protocols/clock';
import type { LinkState } from '../../src-shared/status';

export type { LinkState };

/**
 * The links layer: the only code that touches sockets. It knows nothing of ASTM, HL7 or the
 * database; per connection it drives a handler the gateway supplies.
 */

/** What a handler may do with its connection. */
export interface LinkConnection {
  /** Unique per connection: `${linkId}#${n}`. */
  readonly id: string;
  /** The other side, e.g. "127.0.0.1:53122". */
  readonly peer: string;
  /**
   * Queues bytes in order; counts as activity. Returns false when the connection is closing or
   * closed and the bytes were dropped (an acknowledgement that was never sent, for the log).
   */
  write(bytes: Buffer): boolean;
  /** Ends the connection: a graceful end, then destroy after a short grace. */
  close(reason: LinkCloseReason): void;
}

/** Why a connection ended: a stable code and plain words a bench technician can act on. */
export interface LinkCloseReason {
  code: string;
  message: string;
}

/** Conditions the link itself detects; each one is reported as an `error` event. */
export type LinkErrorCode =
  | 'LINK_LISTEN_FAILED'
  | 'LINK_CONNECT_FAILED'
  | 'LINK_CONNECT_TIMEOUT'
  | 'LINK_IDLE_TIMEOUT'
  | 'LINK_BUFFER_LIMIT'
  | 'LINK_SEND_BUFFER_LIMIT'
  | 'LINK_HANDLER_FAILED'
  | 'LINK_PORT_NOT_FOUND'
  | 'LINK_PORT_BUSY'
  | 'LINK_PORT_DENIED'
  | 'LINK_PORT_FAILED'
  | 'LINK_PORT_GONE';

/** Codes the link puts on the connections it ends; handlers may close with codes of their own. */
export type LinkCloseCode =
  | LinkErrorCode
  | 'LINK_PEER_CLOSED'
  | 'LINK_SOCKET_ERROR'
  | 'LINK_DISCONNECTED_BY_USER'
  | 'LINK_RECONNECT_BY_USER'
  | 'LINK_SHUTDOWN';

export interface ConnectionHandler {
  onData(chunk: Buffer): void;
  /**
   * Bytes the handler currently holds for unfinished messages; the link closes the connection
   * with LINK_BUFFER_LIMIT when it exceeds maxBufferedBytes.
   */
  readonly buffered: number;
  /** True while a message is in flight (graceful shutdown waits for it, up to a deadline). */
  readonly busy: boolean;
  /** Called once when the connection ends for any reason, never from inside another handler call. */
  onClose(reason: LinkCloseReason): void;
  /** Graceful shutdown asks the protocol to end properly before the socket is ended. */
  shutdown?(): void;
}

export type HandlerFactory = (connection: LinkConnection) => ConnectionHandler;

/**
 * A manual disconnect is shown as state `error` with `disconnectedByUser: true` and the reason
 * "disconnected by the user; press Reconnect to connect again": the instrument is configured and
 * enabled but not exchanging data, which is what `error` tells a technician at a glance, while
 * `disabled` stays reserved for an instrument switched off in its configuration. The flag lets
 * the UI draw it as a deliberate stop rather than a fault.
 */
export interface LinkStatus {
  state: LinkState;
  /** When `state` last changed (ms since the epoch); other fields change without moving it. */
  since: number;
  /** Plain words for the last change. */
  reason: string;
  /** Addresses of the open connections. */
  peers: string[];
  /** When the next connect or listen attempt happens, while waiting to retry. */
  nextRetryAt: number | null;
  /** Last byte received or sent on any connection. Read it here; it does not emit a status event. */
  lastActivityAt: number | null;
  connections: number;
  disconnectedByUser: boolean;
}

export type LinkEvent =
  | { type: 'status'; status: LinkStatus }
  | { type: 'connected'; connectionId: string; peer: string }
  | { type: 'disconnected'; connectionId: string; peer: string; reason: LinkCloseReason }
  | {
      type: 'refused';
      peer: string;
      code: 'LINK_TOO_MANY_CONNECTIONS' | 'LINK_PEER_NOT_ALLOWED';
      message: string;
    }
  | { type: 'error'; code: LinkErrorCode; message: string; connectionId?: string; peer?: string }
  | {
      type: 'trace';
      connectionId: string;
      direction: 'in' | 'out';
      bytes: Buffer;
      at: number;
      /** Where the chunk's first byte lies in the connection's stream of that direction. */
      offset: number;
    };

export interface Link {
  readonly id: string;
  readonly status: LinkStatus;
  /** Starts listening or connecting; after a manual disconnect it resumes. */
  start(): void;
  /** Drops the current connections and listens or connects again now, with the backoff reset. */
  reconnect(): void;
  /** Drops the connections and stays down until `reconnect()` or `start()`. */
  disconnect(): void;
  /**
   * Stops for good: no new connections or retries, asks handlers to shut down, waits for the
   * messages in flight up to `deadlineMs`, ends the sockets and releases every timer.
   */
  close(deadlineMs?: number): Promise<void>;
}

/** Options every link takes, whatever it runs over. */
export interface LinkBaseOptions {
  id: string;
  /** TCP keepalive probe delay; 0 turns keepalive off. Default 30 s. Not used by serial links. */
  keepAliveMs?: number;
  /** Close a connection that received nothing for this long; 0 never. Default 0. */
  idleTimeoutMs?: number;
  /** Most bytes a handler may hold for one connection. Default 16 MiB. */
  maxBufferedBytes?: number;
  /**
   * Most bytes waiting to be sent to a peer that does not read, checked after each write; more
   * closes the connection with LINK_SEND_BUFFER_LIMIT. Default: maxBufferedBytes.
   */
  maxSendBufferedBytes?: number;
  /** How long an ended socket may take to close before it is destroyed. Default 2 s. */
  closeGraceMs?: number;
  /** Default: the system clock. */
  clock?: Clock;
  /** Source of jitter for retry delays, in [0, 1). Default Math.random. */
  random?: () => number;
  handlerFactory: HandlerFactory;
  onEvent?: (event: LinkEvent) => void;
}

/** Options every TCP link takes. */
export interface LinkOptions extends LinkBaseOptions {
  host: string;
  port: number;
}
