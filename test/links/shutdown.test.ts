import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { createClientLink, createServerLink, type ServerLinkOptions } from '../../src-main/links';
import { FakeClock } from '../support/fake-clock';
import {
  closedOf,
  connectRaw,
  EventLog,
  lineHandlers,
  portIsFree,
  RawServer,
  readUntil,
  settle,
  within,
} from './helpers';

const sockets: Socket[] = [];
const servers: RawServer[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function busyServer(overrides: Partial<ServerLinkOptions> = {}) {
  const clock = new FakeClock();
  const log = new EventLog();
  const { handlers, factory } = lineHandlers();
  const link = createServerLink({
    id: 'srv',
    host: '127.0.0.1',
    port: 0,
    maxConnections: 2,
    keepAliveMs: 0,
    clock,
    handlerFactory: factory,
    onEvent: log.push,
    ...overrides,
  });
  link.start();
  await log.nextStatus('listening');
  const port = link.address()!.port;
  const clients: Socket[] = [];
  for (let i = 0; i < 2; i++) {
    const socket = await connectRaw(port);
    sockets.push(socket);
    clients.push(socket);
    await log.nextOfType('connected');
  }
  // The first connection has a message in flight.
  clients[0]!.write('busy\n');
  await readUntil(clients[0]!, 'busy\n');
  expect(handlers[0]!.busy).toBe(true);
  return { link, clock, log, handlers, clients, port };
}

function refusedConnection(port: number): Promise<string> {
  const socket = connect({ host: '127.0.0.1', port });
  sockets.push(socket);
  return within(
    new Promise<string>((resolve) => {
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      socket.once('connect', () => resolve('connected'));
    }),
    'a connection attempt to a closed port',
  );
}

describe('graceful shutdown', () => {
  it('stops accepting, lets the busy handler finish, then ends every socket and frees the port', async () => {
    const { link, clock, log, handlers, clients, port } = await busyServer();
    let done = false;
    const closing = link.close(5_000).then(() => (done = true));

    expect(handlers.map((h) => h.shutdownCalls)).toEqual([1, 1]);
    expect(link.status.reason).toBe(
      'stopping: letting the message in progress finish (at most 5 s)',
    );
    expect(await refusedConnection(port)).toBe('ECONNREFUSED');

    clock.advance(1_000);
    await settle();
    expect(done).toBe(false);
    // The message in flight may still exchange bytes until it finishes.
    clients[0]!.write('rest of the message\n');
    await readUntil(clients[0]!, 'rest of the message\n');

    handlers[0]!.busy = false;
    clock.advance(50);
    await within(closing, 'close() to resolve');
    await Promise.all(clients.map((socket) => closedOf(socket)));
    expect(handlers.map((h) => h.closedWith?.code)).toEqual(['LINK_SHUTDOWN', 'LINK_SHUTDOWN']);
    expect(log.ofType('disconnected')).toHaveLength(2);
    expect(link.status).toMatchObject({
      state: 'disabled',
      reason: 'stopped',
      connections: 0,
      peers: [],
    });
    expect(clock.timers).toBe(0);
    expect(await portIsFree(port)).toBe(true);
  });

  it('gives up waiting at the deadline and still releases everything', async () => {
    const { link, clock, clients, port } = await busyServer();
    let done = false;
    const closing = link.close(3_000).then(() => (done = true));
    clock.advance(2_999);
    await settle();
    expect(done).toBe(false);
    clock.advance(1);
    await within(closing, 'close() to resolve at the deadline');
    await Promise.all(clients.map((socket) => closedOf(socket)));
    expect(clock.timers).toBe(0);
    expect(await portIsFree(port)).toBe(true);
  });

  it('returns the same promise when called twice and ignores start() afterwards', async () => {
    const { link, clock, port } = await busyServer();
    const first = link.close(0);
    expect(link.close(10_000)).toBe(first);
    await within(first, 'close(0) to resolve');
    link.start();
    link.reconnect();
    expect(link.status.state).toBe('disabled');
    expect(clock.timers).toBe(0);
    expect(await portIsFree(port)).toBe(true);
  });

  it('closes a client link that is connected, reconnecting or connecting, leaving no timers', async () => {
    const peer = await RawServer.listen();
    servers.push(peer);
    const make = () => {
      const clock = new FakeClock();
      const log = new EventLog();
      const link = createClientLink({
        id: 'cli',
        host: '127.0.0.1',
        port: peer.port,
        keepAliveMs: 0,
        idleTimeoutMs: 60_000,
        clock,
        random: () => 0.5,
        handlerFactory: lineHandlers().factory,
        onEvent: log.push,
      });
      return { link, clock, log };
    };

    const connected = make();
    connected.link.start();
    const socket = await peer.nextSocket();
    await connected.log.nextStatus('connected');
    await within(connected.link.close(), 'close() of a connected client link');
    await closedOf(socket);
    expect(connected.clock.timers).toBe(0);
    expect(connected.link.status.state).toBe('disabled');

    const retrying = make();
    retrying.link.start();
    (await peer.nextSocket()).destroy();
    await retrying.log.nextStatus('reconnecting');
    await within(retrying.link.close(), 'close() of a reconnecting client link');
    expect(retrying.clock.timers).toBe(0);
    retrying.clock.advance(60_000);
    await settle();
    expect(peer.accepted).toBe(2);

    const connecting = make();
    connecting.link.start();
    await within(connecting.link.close(), 'close() of a connecting client link');
    expect(connecting.clock.timers).toBe(0);
    expect(connecting.link.status.state).toBe('disabled');
  });

  it('closes before start, and works with the real clock', async () => {
    const idle = createServerLink({
      id: 'idle',
      host: '127.0.0.1',
      port: 0,
      handlerFactory: lineHandlers().factory,
    });
    await within(idle.close(), 'close() before start');
    expect(idle.status.state).toBe('disabled');

    const log = new EventLog();
    const real = createServerLink({
      id: 'real',
      host: '127.0.0.1',
      port: 0,
      idleTimeoutMs: 60_000,
      handlerFactory: lineHandlers().factory,
      onEvent: log.push,
    });
    real.start();
    await log.nextStatus('listening');
    const port = real.address()!.port;
    const socket = await connectRaw(port);
    sockets.push(socket);
    await log.nextOfType('connected');
    const ended = once(socket, 'end');
    await within(real.close(), 'close() with the real clock');
    await within(ended, 'the peer to see the end');
    expect(await portIsFree(port)).toBe(true);
  });
});
