import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createClientLink, createServerLink, type ServerLinkOptions } from '../../src-main/links';
import { FakeClock } from '../support/fake-clock';
import {
  closedOf,
  connectRaw,
  EventLog,
  lineHandlers,
  RawServer,
  readUntil,
  settle,
  within,
} from './helpers';

const open: Array<{ close(): Promise<void> }> = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(open.splice(0).map((item) => item.close()));
});

async function listeningLink(overrides: Partial<ServerLinkOptions> = {}) {
  const clock = new FakeClock();
  const log = new EventLog();
  const { handlers, factory } = lineHandlers();
  const link = createServerLink({
    id: 'srv',
    host: '127.0.0.1',
    port: 0,
    keepAliveMs: 0,
    clock,
    handlerFactory: factory,
    onEvent: log.push,
    ...overrides,
  });
  open.push(link);
  link.start();
  await log.nextStatus('listening');
  const port = link.address()!.port;
  const client = async () => {
    const socket = await connectRaw(port);
    sockets.push(socket);
    await log.nextOfType('connected');
    return socket;
  };
  return { link, clock, log, handlers, client, port };
}

describe('idle timeout', () => {
  it('closes a client connection to a silent analyzer and reconnects', async () => {
    const peer = await RawServer.listen();
    open.push(peer);
    const clock = new FakeClock();
    const log = new EventLog();
    const link = createClientLink({
      id: 'cli',
      host: '127.0.0.1',
      port: peer.port,
      keepAliveMs: 0,
      idleTimeoutMs: 30_000,
      clock,
      random: () => 0.5,
      handlerFactory: lineHandlers().factory,
      onEvent: log.push,
    });
    open.push(link);
    link.start();
    const silent = await peer.nextSocket();
    await log.nextStatus('connected');

    clock.advance(29_999);
    expect(log.ofType('error')).toHaveLength(0);
    clock.advance(1);
    const message =
      'closed the connection: nothing received for 30 s; the analyzer may be off or the network cut (half-open connection)';
    expect(log.ofType('error')).toEqual([
      {
        type: 'error',
        code: 'LINK_IDLE_TIMEOUT',
        message,
        connectionId: 'cli#1',
        peer: `127.0.0.1:${peer.port}`,
      },
    ]);
    await closedOf(silent);
    const gone = await log.nextOfType('disconnected');
    expect(gone.reason).toEqual({ code: 'LINK_IDLE_TIMEOUT', message });
    const retry = await log.nextStatus('reconnecting');
    expect(retry.reason).toBe(
      `the connection to 127.0.0.1:${peer.port} ended: ${message}; trying again in 1 s`,
    );

    clock.advance(1_000);
    await peer.nextSocket();
    await log.nextStatus('connected');
    expect(peer.accepted).toBe(2);
  });

  it('counts only received bytes, and destroys a half-open peer that ignores the end', async () => {
    const { clock, log, port } = await listeningLink({
      idleTimeoutMs: 10_000,
      closeGraceMs: 2_000,
    });
    // allowHalfOpen: this peer will not answer our end with its own, like one that vanished.
    const peer = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    peer.on('error', () => {});
    sockets.push(peer);
    await within(once(peer, 'connect'), 'the peer to connect');
    await log.nextOfType('connected');

    clock.advance(6_000);
    peer.write('ping\n');
    await readUntil(peer, 'ping\n');
    clock.advance(6_000);
    expect(log.ofType('error')).toHaveLength(0);
    clock.advance(4_000);
    expect(log.ofType('error').map((e) => e.code)).toEqual(['LINK_IDLE_TIMEOUT']);

    await within(once(peer, 'end'), 'the end from the link');
    await settle();
    expect(log.ofType('disconnected')).toHaveLength(0);
    clock.advance(2_000);
    const gone = await log.nextOfType('disconnected');
    expect(gone.reason?.code).toBe('LINK_IDLE_TIMEOUT');
    expect(clock.timers).toBe(0);
  });
});

describe('buffer limits', () => {
  it('closes only the connection holding too much, while other connections and links keep working', async () => {
    const a = await listeningLink({ maxConnections: 2, maxBufferedBytes: 1_024 });
    const b = await listeningLink({ maxBufferedBytes: 1_024 });
    const greedy = await a.client();
    const neighbour = await a.client();
    const elsewhere = await b.client();

    greedy.write(Buffer.alloc(4_096, 0x41));
    const error = await a.log.nextOfType('error');
    expect(error.code).toBe('LINK_BUFFER_LIMIT');
    expect(error.connectionId).toBe('srv#1');
    expect(error.message).toMatch(
      /^closed the connection: [\d.]+ KiB waiting in the buffer \(the limit is 1 KiB\)$/,
    );
    await closedOf(greedy);
    const gone = await a.log.nextOfType('disconnected');
    expect(gone.reason).toEqual({ code: 'LINK_BUFFER_LIMIT', message: error.message });
    expect(a.handlers[0]!.closedWith?.code).toBe('LINK_BUFFER_LIMIT');

    neighbour.write('still fine\n');
    await readUntil(neighbour, 'still fine\n');
    elsewhere.write('also fine\n');
    await readUntil(elsewhere, 'also fine\n');
    expect(a.link.status).toMatchObject({ state: 'connected', connections: 1 });
    expect(b.log.ofType('error')).toHaveLength(0);
  });

  it('closes a connection whose peer stops reading once too much waits to be sent', async () => {
    const { link, log, handlers, client } = await listeningLink({
      maxConnections: 2,
      maxSendBufferedBytes: 64 * 1024,
    });
    const slow = await client();
    slow.pause();
    slow.write('flood\n');
    const error = await log.nextOfType('error');
    expect(error.code).toBe('LINK_SEND_BUFFER_LIMIT');
    expect(error.message).toMatch(
      /^closed the connection: [\d.]+ (KiB|MiB) waiting to be sent because the analyzer is not reading \(the limit is 64 KiB\)$/,
    );
    expect(handlers[0]!.connection.write(Buffer.from('late\n'))).toBe(false);
    const gone = await log.nextOfType('disconnected');
    expect(gone.reason?.code).toBe('LINK_SEND_BUFFER_LIMIT');
    slow.resume();
    await closedOf(slow, 'the slow reader to see the end once it reads');

    const next = await client();
    next.write('hello\n');
    await readUntil(next, 'hello\n');
    expect(link.status.connections).toBe(1);
  });
});
