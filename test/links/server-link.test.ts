import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createServerLink, type ServerLink, type ServerLinkOptions } from '../../src-main/links';
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
} from './helpers';

const open: Array<{ close(): Promise<void> }> = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(open.splice(0).map((item) => item.close()));
});

function serverLink(overrides: Partial<ServerLinkOptions> = {}) {
  const clock = new FakeClock();
  const log = new EventLog();
  const { handlers, factory } = lineHandlers();
  const link = createServerLink({
    id: 'srv',
    host: '127.0.0.1',
    port: 0,
    keepAliveMs: 0,
    clock,
    random: () => 0.5,
    handlerFactory: factory,
    onEvent: log.push,
    ...overrides,
  });
  open.push(link);
  /** Starts the link and waits until it listens, so `address()` knows the port. */
  const listen = async () => {
    link.start();
    return log.nextStatus('listening');
  };
  return { link, clock, log, handlers, listen };
}

async function client(link: ServerLink): Promise<Socket> {
  const socket = await connectRaw(link.address()!.port);
  sockets.push(socket);
  return socket;
}

async function freePort(): Promise<number> {
  const probe = await RawServer.listen();
  await probe.close();
  return probe.port;
}

const dualStack = await new Promise<boolean>((resolve) => {
  const server = createServer();
  server.once('error', () => resolve(false));
  server.listen({ host: '::', port: 0 }, () => server.close(() => resolve(true)));
});

describe('server link', () => {
  it('listens, accepts the analyzer, echoes through its handler and traces every chunk', async () => {
    const { link, clock, log, handlers } = serverLink();
    expect(link.status).toMatchObject({ state: 'disabled', reason: 'not started' });
    link.start();
    const opening = await log.nextStatus('connecting');
    expect(opening.reason).toBe('opening port 0 on 127.0.0.1');
    const listening = await log.nextStatus('listening');
    const port = link.address()!.port;
    expect(listening.reason).toBe(`listening on 127.0.0.1:${port}, waiting for the analyzer`);

    const socket = await client(link);
    const peer = `127.0.0.1:${socket.localPort}`;
    const connected = await log.nextOfType('connected');
    expect(connected).toEqual({ type: 'connected', connectionId: 'srv#1', peer });
    const status = await log.nextStatus('connected');
    expect(status).toMatchObject({ peers: [peer], connections: 1, reason: `${peer} connected` });

    clock.advance(1_000);
    socket.write('hello\n');
    await readUntil(socket, 'hello\n');
    const traces = log.ofType('trace');
    expect(traces.map((t) => [t.direction, t.bytes.toString()])).toEqual([
      ['in', 'hello\n'],
      ['out', 'hello\n'],
    ]);
    expect(traces.every((t) => t.connectionId === 'srv#1' && t.at === clock.now())).toBe(true);
    expect(link.status.lastActivityAt).toBe(clock.now());

    socket.end();
    const gone = await log.nextOfType('disconnected');
    expect(gone.reason).toEqual({
      code: 'LINK_PEER_CLOSED',
      message: 'the analyzer closed the connection',
    });
    expect(handlers[0]!.closedWith?.code).toBe('LINK_PEER_CLOSED');
    const back = await log.nextStatus('listening');
    expect(back.reason).toBe(
      `${peer} disconnected: the analyzer closed the connection; waiting for the analyzer to connect again`,
    );
    expect(back).toMatchObject({ peers: [], connections: 0 });
  });

  it('turns on no-delay on every socket, and keepalive when asked', async () => {
    const accepted: Socket[] = [];
    const listen: ServerLinkOptions['listen'] = (onConnection) =>
      createServer((socket) => {
        vi.spyOn(socket, 'setNoDelay');
        vi.spyOn(socket, 'setKeepAlive');
        accepted.push(socket);
        onConnection(socket);
      });
    const withKeepAlive = serverLink({ keepAliveMs: 15_000, listen });
    await withKeepAlive.listen();
    await client(withKeepAlive.link);
    await withKeepAlive.log.nextOfType('connected');
    expect(accepted[0]!.setNoDelay).toHaveBeenCalledWith(true);
    expect(accepted[0]!.setKeepAlive).toHaveBeenCalledWith(true, 15_000);

    const without = serverLink({ keepAliveMs: 0, listen });
    await without.listen();
    await client(without.link);
    await without.log.nextOfType('connected');
    expect(accepted[1]!.setNoDelay).toHaveBeenCalledWith(true);
    expect(accepted[1]!.setKeepAlive).not.toHaveBeenCalled();
  });

  it('refuses connections beyond maxConnections without counting them', async () => {
    const { link, log, listen } = serverLink({ maxConnections: 1 });
    await listen();
    const first = await client(link);
    await log.nextOfType('connected');

    const extra = await client(link);
    const refused = await log.nextOfType('refused');
    expect(refused).toEqual({
      type: 'refused',
      peer: `127.0.0.1:${extra.localPort}`,
      code: 'LINK_TOO_MANY_CONNECTIONS',
      message: `refused 127.0.0.1:${extra.localPort}: 1 connection is already open and the limit is 1`,
    });
    await closedOf(extra, 'the refused socket to close');
    expect(link.status).toMatchObject({ state: 'connected', connections: 1 });
    expect(log.ofType('connected')).toHaveLength(1);

    first.write('still here\n');
    await readUntil(first, 'still here\n');

    first.end();
    await log.nextStatus('listening');
    const next = await client(link);
    await log.nextOfType('connected');
    next.write('next\n');
    await readUntil(next, 'next\n');
  });

  it('lists every peer while several are connected, keeping `since` from the first', async () => {
    const { link, clock, log, listen } = serverLink({ maxConnections: 2 });
    await listen();
    await client(link);
    const one = await log.nextStatus('connected');
    clock.advance(5_000);
    const two = await client(link);
    const both = await log.next(
      (e) => e.type === 'status' && e.status.connections === 2,
      'a status with two connections',
    );
    if (both.type !== 'status') throw new Error('expected a status');
    expect(both.status.since).toBe(one.since);
    expect(both.status.peers).toHaveLength(2);
    expect(both.status.peers).toContain(`127.0.0.1:${two.localPort}`);
  });

  it('refuses peers that are not in allowedPeers', async () => {
    const { link, log, listen } = serverLink({ allowedPeers: ['10.9.9.9'] });
    await listen();
    const stranger = await client(link);
    const refused = await log.nextOfType('refused');
    expect(refused.code).toBe('LINK_PEER_NOT_ALLOWED');
    expect(refused.message).toBe(
      `refused 127.0.0.1:${stranger.localPort}: 127.0.0.1 is not in the allowed peers (10.9.9.9)`,
    );
    await closedOf(stranger);
    expect(link.status).toMatchObject({ state: 'listening', connections: 0 });
  });

  it('accepts allowed peers', async () => {
    const { link, log, listen } = serverLink({ allowedPeers: ['10.9.9.9', '127.0.0.1'] });
    await listen();
    const friend = await client(link);
    await log.nextOfType('connected');
    friend.write('hi\n');
    await readUntil(friend, 'hi\n');
    expect(log.ofType('refused')).toHaveLength(0);
  });

  it.runIf(dualStack)('matches an IPv4-mapped IPv6 peer against its IPv4 address', async () => {
    const { link, log, listen } = serverLink({ host: '::', allowedPeers: ['127.0.0.1'] });
    await listen();
    const socket = await client(link);
    const connected = await log.nextOfType('connected');
    expect(connected.peer).toBe(`127.0.0.1:${socket.localPort}`);
    expect(log.ofType('refused')).toHaveLength(0);
  });

  it('reports a busy port in plain words and keeps trying to listen with backoff', async () => {
    const squatter = await RawServer.listen();
    const port = squatter.port;
    const { link, clock, log } = serverLink({ port });
    link.start();

    const error = await log.nextOfType('error');
    expect(error).toEqual({
      type: 'error',
      code: 'LINK_LISTEN_FAILED',
      message: `port ${port} on 127.0.0.1 is already in use`,
    });
    const failed = await log.nextStatus('error');
    expect(failed.reason).toBe(
      `cannot listen: port ${port} on 127.0.0.1 is already in use; trying again in 1 s`,
    );
    expect(failed.nextRetryAt).toBe(clock.now() + 1_000);
    expect(link.address()).toBeNull();

    clock.advance(1_000);
    const again = await log.next(
      (e) => e.type === 'status' && e.status.reason.includes('trying again in 2 s'),
      'the second listen failure',
    );
    if (again.type !== 'status') throw new Error('expected a status');
    expect(again.status).toMatchObject({ state: 'error', nextRetryAt: clock.now() + 2_000 });

    await squatter.close();
    clock.advance(2_000);
    const listening = await log.nextStatus('listening');
    expect(listening).toMatchObject({
      nextRetryAt: null,
      reason: expect.stringContaining(`${port}`),
    });
    expect(link.address()).toEqual({ host: '127.0.0.1', port });
    expect(log.states()).toEqual([
      'connecting',
      'error',
      'connecting',
      'error',
      'connecting',
      'listening',
    ]);
  });

  it('disconnect stops listening until reconnect; reconnect drops connections and listens again', async () => {
    const port = await freePort();
    const { link, log, handlers, listen } = serverLink({ port, maxConnections: 2 });
    await listen();
    const socket = await client(link);
    await log.nextOfType('connected');

    link.disconnect();
    expect(link.status).toMatchObject({
      state: 'error',
      reason: 'disconnected by the user; press Reconnect to connect again',
      disconnectedByUser: true,
      connections: 0,
    });
    await closedOf(socket);
    await log.nextOfType('disconnected');
    expect(handlers[0]!.closedWith?.code).toBe('LINK_DISCONNECTED_BY_USER');
    expect(await portIsFree(port)).toBe(true);

    link.reconnect();
    expect(link.status).toMatchObject({ state: 'connecting', disconnectedByUser: false });
    await log.nextStatus('listening');
    const again = await client(link);
    await log.nextOfType('connected');

    link.reconnect();
    await closedOf(again);
    await log.nextOfType('disconnected');
    expect(handlers[1]!.closedWith?.code).toBe('LINK_RECONNECT_BY_USER');
    await log.nextStatus('listening');
    const third = await client(link);
    third.write('after reconnect\n');
    await readUntil(third, 'after reconnect\n');

    link.disconnect();
    link.start();
    await log.nextStatus('listening');
    const fourth = await client(link);
    fourth.write('after start\n');
    await readUntil(fourth, 'after start\n');
  });

  it('closes only the connection whose handler throws, and survives a throwing listener', async () => {
    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const log = new EventLog();
    const { link } = serverLink({
      maxConnections: 2,
      onEvent: (event) => {
        log.push(event);
        if (event.type === 'trace') throw new Error('listener bug');
      },
    });
    link.start();
    await log.nextStatus('listening');
    const good = await client(link);
    const bad = await client(link);
    bad.write('throw\n');
    const error = await log.nextOfType('error');
    expect(error).toMatchObject({
      code: 'LINK_HANDLER_FAILED',
      message: 'the protocol handler failed: the test handler was told to throw',
      peer: `127.0.0.1:${bad.localPort}`,
    });
    await closedOf(bad);
    good.write('fine\n');
    await readUntil(good, 'fine\n');
    expect(warnings).toHaveBeenCalledWith(expect.stringContaining('listener bug'));
    warnings.mockRestore();
  });

  it('ends a refused socket politely: the peer sees an end, not a reset', async () => {
    const { link, log, listen } = serverLink();
    await listen();
    await client(link);
    await log.nextOfType('connected');
    const extra = await client(link);
    const ended = once(extra, 'end');
    const errors: Error[] = [];
    extra.on('error', (error) => errors.push(error));
    await log.nextOfType('refused');
    await ended;
    await closedOf(extra);
    await settle();
    expect(errors).toEqual([]);
  });
});
