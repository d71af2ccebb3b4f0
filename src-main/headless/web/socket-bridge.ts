import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { isCommandName, type CommandError } from '../../../src-shared/contract';
import type { CommandService, ServiceEvent } from '../../service/types';

export interface BridgeLimits {
  /** Largest call accepted; a larger one is answered with REQUEST_TOO_LARGE. */
  maxMessageBytes: number;
  /** Bytes waiting to be sent to one browser before it counts as too slow and is dropped. */
  maxBufferedBytes: number;
  /** Calls of one browser being worked on at once; more are answered with TOO_MANY_CALLS. */
  maxCallsInFlight: number;
  /** Browsers connected at once. */
  maxClients: number;
  /** Ping period; a browser that has not answered the previous ping is dropped. */
  heartbeatMs: number;
}

export const DEFAULT_BRIDGE_LIMITS: Readonly<BridgeLimits> = Object.freeze({
  maxMessageBytes: 1024 * 1024,
  maxBufferedBytes: 16 * 1024 * 1024,
  maxCallsInFlight: 64,
  maxClients: 32,
  heartbeatMs: 30_000,
});

/** Above this a frame is not even read: the connection is closed with 1009. */
const HARD_LIMIT_FACTOR = 4;

interface Client {
  socket: WebSocket;
  alive: boolean;
  inFlight: number;
}

type CallId = number | string;

/**
 * The contract over WebSocket, server side (the page side is src-renderer/api/websocket.ts):
 * - page → server `{ type: 'call', id, command, payload }`;
 * - server → page `{ type: 'result', id, result }` for every call, in completion order, and
 *   `{ type: 'event', name, payload }` for every service event, to every browser;
 * - `{ type: 'error', error }` for a message that cannot be tied to a call (not JSON, no id).
 */
export class SocketBridge {
  private readonly wss: WebSocketServer;
  private readonly clients = new Set<Client>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private closing: Promise<void> | null = null;

  constructor(
    private readonly service: CommandService,
    private readonly limits: BridgeLimits,
    private readonly log: (line: string) => void,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: limits.maxMessageBytes * HARD_LIMIT_FACTOR,
    });
    this.unsubscribe = service.subscribe((event) => this.broadcast(event));
    this.heartbeat = setInterval(() => this.checkHeartbeats(), limits.heartbeatMs);
    this.heartbeat.unref();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Whether one more browser may connect. */
  get hasRoom(): boolean {
    return !this.closing && this.clients.size < this.limits.maxClients;
  }

  /** Completes a handshake the caller has already authorized. */
  accept(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(request, socket, head, (ws) => this.attach(ws));
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.heartbeat);
      this.unsubscribe();
      const closed = [...this.clients].map(
        ({ socket }) =>
          new Promise<void>((resolve) => {
            if (socket.readyState === WebSocket.CLOSED) return resolve();
            socket.once('close', () => resolve());
            socket.close(1001, 'the gateway is shutting down');
            // A browser that does not answer the close handshake is not waited for.
            setTimeout(() => socket.terminate(), 1_000).unref();
          }),
      );
      await Promise.all(closed);
      await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    })();
    return this.closing;
  }

  private attach(socket: WebSocket): void {
    const client: Client = { socket, alive: true, inFlight: 0 };
    this.clients.add(client);
    socket.on('pong', () => {
      client.alive = true;
    });
    socket.on('message', (data, isBinary) => this.onMessage(client, data, isBinary));
    // ws reports protocol violations (a frame over maxPayload, bad UTF-8) here, then closes.
    socket.on('error', (error: Error & { code?: string }) => {
      this.log(`browser connection closed: ${error.code ?? 'WS_ERROR'}: ${error.message}`);
    });
    socket.on('close', () => this.clients.delete(client));
  }

  private onMessage(client: Client, data: RawData, isBinary: boolean): void {
    const bytes = Array.isArray(data)
      ? Buffer.concat(data)
      : Buffer.isBuffer(data)
        ? data
        : Buffer.from(data);
    if (bytes.length > this.limits.maxMessageBytes) {
      const id = leadingCallId(bytes);
      const error = problem(
        'REQUEST_TOO_LARGE',
        `the request is ${bytes.length} bytes; the most accepted is ${this.limits.maxMessageBytes}`,
      );
      if (id === null) this.send(client, { type: 'error', error });
      else this.reply(client, id, error);
      return;
    }
    if (isBinary) {
      this.send(client, {
        type: 'error',
        error: problem('WS_BAD_MESSAGE', 'binary messages are not accepted; send JSON text'),
      });
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(bytes.toString('utf8'));
    } catch {
      this.send(client, {
        type: 'error',
        error: problem('WS_NOT_JSON', 'the message is not JSON'),
      });
      return;
    }
    const { type, id, command, payload } = (
      typeof message === 'object' && message !== null ? message : {}
    ) as Record<string, unknown>;
    if (!isCallId(id)) {
      this.send(client, {
        type: 'error',
        error: problem('WS_BAD_MESSAGE', 'a call needs an "id" (a number or a short string)'),
      });
      return;
    }
    if (type !== 'call') {
      this.reply(client, id, problem('WS_BAD_MESSAGE', 'the message "type" must be "call"'));
      return;
    }
    if (!isCommandName(command)) {
      const name = typeof command === 'string' ? `"${command.slice(0, 64)}"` : 'without a name';
      this.reply(client, id, problem('UNKNOWN_COMMAND', `unknown command ${name}`));
      return;
    }
    if (client.inFlight >= this.limits.maxCallsInFlight) {
      this.reply(
        client,
        id,
        problem(
          'TOO_MANY_CALLS',
          `more than ${this.limits.maxCallsInFlight} calls at once; wait for their answers`,
        ),
      );
      return;
    }
    client.inFlight++;
    Promise.resolve()
      .then(() => this.service.dispatch(command, payload))
      .then(
        (result) => this.send(client, { type: 'result', id, result }, id),
        (error: unknown) => {
          this.log(`command ${command} failed unexpectedly: ${String(error)}`);
          this.reply(client, id, problem('INTERNAL', `${command} failed unexpectedly`));
        },
      )
      .finally(() => {
        client.inFlight--;
      });
  }

  private reply(client: Client, id: CallId, error: CommandError): void {
    this.send(client, { type: 'result', id, result: { ok: false, error } });
  }

  /** `id`: when a result cannot be serialized, the call still gets an answer. */
  private send(client: Client, message: object, id?: CallId): void {
    let text: string;
    try {
      text = JSON.stringify(message);
    } catch (error) {
      this.log(`could not encode an answer: ${String(error)}`);
      if (id !== undefined) {
        this.reply(client, id, problem('INTERNAL', 'the answer could not be encoded'));
      }
      return;
    }
    this.sendText(client, text);
  }

  private sendText(client: Client, text: string): void {
    const { socket } = client;
    if (socket.readyState !== WebSocket.OPEN) return;
    if (socket.bufferedAmount + text.length > this.limits.maxBufferedBytes) {
      this.log(
        `a browser fell behind (${socket.bufferedAmount} bytes waiting to be sent); disconnected it`,
      );
      this.clients.delete(client);
      socket.terminate();
      return;
    }
    socket.send(text);
  }

  private broadcast(event: ServiceEvent): void {
    if (this.clients.size === 0) return;
    let text: string;
    try {
      text = JSON.stringify({ type: 'event', name: event.name, payload: event.payload });
    } catch (error) {
      this.log(`could not encode the ${event.name} event: ${String(error)}`);
      return;
    }
    for (const client of [...this.clients]) this.sendText(client, text);
  }

  private checkHeartbeats(): void {
    for (const client of [...this.clients]) {
      if (!client.alive) {
        this.log('a browser stopped answering pings; disconnected it');
        this.clients.delete(client);
        client.socket.terminate();
        continue;
      }
      client.alive = false;
      client.socket.ping();
    }
  }
}

function problem(code: string, message: string): CommandError {
  return { code, message };
}

function isCallId(id: unknown): id is CallId {
  return (
    (typeof id === 'number' && Number.isSafeInteger(id)) ||
    (typeof id === 'string' && id.length > 0 && id.length <= 64)
  );
}

/** The id of a call too large to parse, when it comes first as the page's client writes it. */
function leadingCallId(bytes: Buffer): CallId | null {
  const head = bytes.subarray(0, 256).toString('utf8');
  const match = /^\s*\{\s*(?:"type"\s*:\s*"call"\s*,\s*)?"id"\s*:\s*(-?\d{1,15})\s*[,}]/.exec(head);
  return match ? Number(match[1]) : null;
}
