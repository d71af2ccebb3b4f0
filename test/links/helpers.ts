import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type {
  ConnectionHandler,
  HandlerFactory,
  LinkCloseReason,
  LinkConnection,
  LinkEvent,
  LinkState,
  LinkStatus,
} from '../../src-main/links';

/** Bounds every wait, so a missing event fails the test with its name instead of hanging. */
export function within<T>(promise: Promise<T>, label: string, ms = 5_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${label}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

type Predicate = (event: LinkEvent) => boolean;

/** Records a link's events and lets a test await them in order. */
export class EventLog {
  readonly events: LinkEvent[] = [];
  private cursor = 0;
  private waiters: Array<() => void> = [];

  readonly push = (event: LinkEvent): void => {
    this.events.push(event);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  };

  /** The first event after the previous match that satisfies `predicate`. */
  next<T extends LinkEvent = LinkEvent>(predicate: Predicate, label: string): Promise<T> {
    const search = (): T | undefined => {
      for (let i = this.cursor; i < this.events.length; i++) {
        const event = this.events[i]!;
        if (predicate(event)) {
          this.cursor = i + 1;
          return event as T;
        }
      }
      return undefined;
    };
    const found = search();
    if (found) return Promise.resolve(found);
    return within(
      new Promise<T>((resolve) => {
        const retry = () => {
          const event = search();
          if (event) resolve(event);
          else this.waiters.push(retry);
        };
        this.waiters.push(retry);
      }),
      label,
    );
  }

  nextStatus(state: LinkState, label = `status ${state}`): Promise<LinkStatus> {
    return this.next<{ type: 'status'; status: LinkStatus }>(
      (event) => event.type === 'status' && event.status.state === state,
      label,
    ).then((event) => event.status);
  }

  nextOfType<K extends LinkEvent['type']>(type: K): Promise<Extract<LinkEvent, { type: K }>> {
    return this.next<Extract<LinkEvent, { type: K }>>((event) => event.type === type, type);
  }

  /** Moves the cursor to the end: later `next` calls only see events from now on. */
  skip(): void {
    this.cursor = this.events.length;
  }

  ofType<K extends LinkEvent['type']>(type: K): Array<Extract<LinkEvent, { type: K }>> {
    return this.events.filter(
      (event): event is Extract<LinkEvent, { type: K }> => event.type === type,
    );
  }

  states(): LinkState[] {
    return this.ofType('status').map((event) => event.status.state);
  }
}

/**
 * A line protocol for tests: echoes each complete line; holds partial lines (its `buffered`).
 * `busy` turns on with the line "busy" and stays on until the test clears it; "flood" writes
 * 32 KiB chunks until the link refuses more; "throw" throws.
 */
export class LineHandler implements ConnectionHandler {
  private pending = Buffer.alloc(0);
  busy = false;
  closedWith: LinkCloseReason | null = null;
  shutdownCalls = 0;
  received = 0;

  constructor(readonly connection: LinkConnection) {}

  get buffered(): number {
    return this.pending.length;
  }

  onData(chunk: Buffer): void {
    this.received += chunk.length;
    this.pending = Buffer.concat([this.pending, chunk]);
    for (;;) {
      const end = this.pending.indexOf(0x0a);
      if (end < 0) break;
      const line = this.pending.subarray(0, end).toString('latin1');
      this.pending = this.pending.subarray(end + 1);
      this.onLine(line);
    }
  }

  private onLine(line: string): void {
    if (line === 'throw') throw new Error('the test handler was told to throw');
    if (line === 'busy') this.busy = true;
    if (line === 'flood') {
      const chunk = Buffer.alloc(32 * 1024, 0x41);
      for (let i = 0; i < 10_000 && this.connection.write(chunk); i++);
      return;
    }
    this.connection.write(Buffer.from(`${line}\n`, 'latin1'));
  }

  onClose(reason: LinkCloseReason): void {
    this.closedWith = reason;
  }

  shutdown(): void {
    this.shutdownCalls++;
  }
}

export function lineHandlers(): { handlers: LineHandler[]; factory: HandlerFactory } {
  const handlers: LineHandler[] = [];
  return {
    handlers,
    factory: (connection) => {
      const handler = new LineHandler(connection);
      handlers.push(handler);
      return handler;
    },
  };
}

/** A plain TCP server standing in for an analyzer a client link connects to. */
export class RawServer {
  readonly sockets = new Set<Socket>();
  accepted = 0;
  private waiting: Array<(socket: Socket) => void> = [];
  private queue: Socket[] = [];

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Listens on 127.0.0.1 (port 0: any free port); `greeting` is written to each new connection. */
  static async listen(port = 0, greeting?: string): Promise<RawServer> {
    let raw: RawServer | null = null;
    const server = createServer((socket) => {
      socket.on('error', () => {});
      if (greeting) socket.write(greeting);
      raw!.track(socket);
    });
    server.listen({ host: '127.0.0.1', port });
    await within(once(server, 'listening'), 'the test server to listen');
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('no address');
    raw = new RawServer(server, address.port);
    return raw;
  }

  private track(socket: Socket): void {
    this.accepted++;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    const waiter = this.waiting.shift();
    if (waiter) waiter(socket);
    else this.queue.push(socket);
  }

  /** The next socket this server accepts. */
  nextSocket(): Promise<Socket> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return within(
      new Promise<Socket>((resolve) => this.waiting.push(resolve)),
      'a connection to the test server',
    );
  }

  /** Stops listening and drops every connection, like an analyzer switched off. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await within(closed, 'the test server to close');
  }
}

/** Connects a plain socket, standing in for an analyzer that connects to a server link. */
export async function connectRaw(port: number, host = '127.0.0.1'): Promise<Socket> {
  const socket = connect({ host, port });
  socket.on('error', () => {});
  await within(once(socket, 'connect'), `a connection to ${host}:${port}`);
  return socket;
}

export function closedOf(socket: Socket, label = 'the socket to close'): Promise<void> {
  if (socket.closed) return Promise.resolve();
  return within(
    once(socket, 'close').then(() => undefined),
    label,
  );
}

/** Reads from `socket` until the text received so far contains `expected`. */
export function readUntil(socket: Socket, expected: string): Promise<string> {
  let text = '';
  return within(
    new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        text += chunk.toString('latin1');
        if (text.includes(expected)) {
          cleanup();
          resolve(text);
        }
      };
      const onClose = () => {
        cleanup();
        reject(new Error(`closed before "${expected}" arrived (got "${text}")`));
      };
      const cleanup = () => {
        socket.off('data', onData);
        socket.off('close', onClose);
      };
      socket.on('data', onData);
      socket.on('close', onClose);
    }),
    `"${expected}" from the link`,
  );
}

/** True when a fresh listener can bind the port, i.e. the link released it. */
export async function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  try {
    server.listen({ host: '127.0.0.1', port });
    await within(
      Promise.race([
        once(server, 'listening'),
        once(server, 'error').then(([error]) => Promise.reject(error as Error)),
      ]),
      `a probe listener on port ${port}`,
    );
    return true;
  } catch {
    return false;
  } finally {
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Lets pending socket callbacks run; for asserting that something did not happen. */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
