import { connect, Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClientLink, type ClientLinkOptions } from '../../src-main/links';
import { FakeClock } from '../support/fake-clock';
import { closedOf, EventLog, lineHandlers, RawServer, readUntil, settle } from './helpers';

const open: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((item) => item.close()));
});

function clientLink(port: number, overrides: Partial<ClientLinkOptions> = {}) {
  const clock = new FakeClock();
  const log = new EventLog();
  const { handlers, factory } = lineHandlers();
  const link = createClientLink({
    id: 'cli',
    host: '127.0.0.1',
    port,
    keepAliveMs: 0,
    connectTimeoutMs: 5_000,
    reconnect: { initialDelayMs: 1_000, maxDelayMs: 60_000, factor: 2, jitter: 0.2 },
    clock,
    random: () => 0.5,
    handlerFactory: factory,
    onEvent: log.push,
    ...overrides,
  });
  open.push(link);
  return { link, clock, log, handlers };
}

async function analyzer(port = 0, greeting?: string): Promise<RawServer> {
  const server = await RawServer.listen(port, greeting);
  open.push(server);
  return server;
}

async function freePort(): Promise<number> {
  const probe = await RawServer.listen();
  await probe.close();
  return probe.port;
}

const retryDelay = (status: { nextRetryAt: number | null }, clock: FakeClock) =>
  (status.nextRetryAt ?? Number.NaN) - clock.now();

describe('client link', () => {
  it('connects to the analyzer and runs its handler over the socket', async () => {
    const peer = await analyzer();
    const { link, log } = clientLink(peer.port);
    link.start();
    expect(link.status).toMatchObject({
      state: 'connecting',
      reason: `connecting to 127.0.0.1:${peer.port}`,
    });
    const socket = await peer.nextSocket();
    const connected = await log.nextStatus('connected');
    expect(connected).toMatchObject({
      reason: `connected to 127.0.0.1:${peer.port}`,
      peers: [`127.0.0.1:${peer.port}`],
      connections: 1,
      nextRetryAt: null,
    });
    expect(log.ofType('connected')[0]).toMatchObject({ connectionId: 'cli#1' });
    socket.write('ping\n');
    await readUntil(socket, 'ping\n');
  });

  it('reconnects each time the analyzer goes away and comes back, 20 times, with growing capped backoff', async () => {
    let peer = await analyzer(0, 'hello\n');
    const port = peer.port;
    const { link, clock, log } = clientLink(port);
    const greeting = () =>
      log.next((e) => e.type === 'trace' && e.direction === 'in', 'the greeting');
    link.start();
    await log.nextStatus('connected');
    await greeting();

    const delays: number[][] = [];
    let failures = 0;
    for (let cycle = 0; cycle < 20; cycle++) {
      await peer.close();
      let status = await log.nextStatus('reconnecting', `cycle ${cycle}: the loss`);
      expect(status.reason).toMatch(
        new RegExp(`^the connection to 127\\.0\\.0\\.1:${port} ended: .+; trying again in 1 s$`),
      );
      const seen = [retryDelay(status, clock)];
      // Failed attempts while the analyzer is away; cycle 7 stays away long enough to hit the cap.
      const away = cycle === 7 ? 9 : cycle % 3;
      for (let attempt = 0; attempt < away; attempt++) {
        clock.advance(seen.at(-1)!);
        const connecting = await log.nextStatus('connecting');
        expect(connecting.reason).toBe(`connecting to 127.0.0.1:${port} (attempt ${attempt + 2})`);
        status = await log.nextStatus('reconnecting', `cycle ${cycle}: failure ${attempt}`);
        expect(status.reason).toContain('nothing is listening there (connection refused)');
        seen.push(retryDelay(status, clock));
        failures++;
      }
      delays.push(seen);
      peer = await analyzer(port, 'hello\n');
      clock.advance(seen.at(-1)!);
      await log.nextStatus('connected', `cycle ${cycle}: back`);
      await greeting();
    }

    const doubling = [1_000, 2_000, 4_000, 8_000, 16_000, 32_000];
    expect(delays[7]).toEqual([...doubling, 60_000, 60_000, 60_000, 60_000]);
    delays.forEach((seen, cycle) => {
      if (cycle !== 7) expect(seen).toEqual(doubling.slice(0, (cycle % 3) + 1));
    });
    expect(log.ofType('connected')).toHaveLength(21);
    expect(log.ofType('disconnected')).toHaveLength(20);
    const errors = log.ofType('error');
    expect(errors).toHaveLength(failures);
    expect(errors.every((e) => e.code === 'LINK_CONNECT_FAILED')).toBe(true);
    expect(log.states().slice(0, 7)).toEqual([
      'connecting',
      'connected',
      'reconnecting',
      'connecting',
      'connected',
      'reconnecting',
      'connecting',
    ]);
    expect(link.status.state).toBe('connected');
  });

  it('keeps growing the backoff while connections drop at once, and resets it once one holds', async () => {
    const peer = await analyzer();
    const { link, clock, log } = clientLink(peer.port, { stableAfterMs: 10_000 });
    link.start();
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      (await peer.nextSocket()).destroy();
      seen.push(retryDelay(await log.nextStatus('reconnecting'), clock));
      clock.advance(seen.at(-1)!);
    }
    expect(seen).toEqual([1_000, 2_000, 4_000]);

    const holding = await peer.nextSocket();
    await log.nextStatus('connected');
    clock.advance(10_000);
    holding.destroy();
    expect(retryDelay(await log.nextStatus('reconnecting'), clock)).toBe(1_000);
  });

  it('manual reconnect connects now, without waiting for the retry, and resets the backoff', async () => {
    const first = await analyzer();
    const port = first.port;
    const { link, clock, log, handlers } = clientLink(port);
    link.start();
    await log.nextStatus('connected');

    await first.close();
    let waiting = await log.nextStatus('reconnecting');
    for (let i = 0; i < 2; i++) {
      clock.advance(retryDelay(waiting, clock));
      waiting = await log.nextStatus('reconnecting');
    }
    expect(retryDelay(waiting, clock)).toBe(4_000);

    const back = await analyzer(port);
    link.reconnect();
    expect(link.status).toMatchObject({ state: 'connecting', nextRetryAt: null });
    expect(clock.timers).toBe(1); // only the connect timeout; the pending retry is gone
    const socket = await back.nextSocket();
    await log.nextStatus('connected');

    socket.destroy();
    expect(retryDelay(await log.nextStatus('reconnecting'), clock)).toBe(1_000);
    clock.advance(1_000);
    const again = await back.nextSocket();
    await log.nextStatus('connected');

    link.reconnect();
    await closedOf(again, 'the dropped connection to close');
    const fresh = await back.nextSocket();
    await log.next(
      (e) => e.type === 'disconnected' && e.reason?.code === 'LINK_RECONNECT_BY_USER',
      'the dropped connection to be reported',
    );
    expect(handlers.at(-2)!.closedWith?.code).toBe('LINK_RECONNECT_BY_USER');
    expect(link.status).toMatchObject({ state: 'connected', connections: 1 });
    fresh.write('fresh\n');
    await readUntil(fresh, 'fresh\n');
  });

  it('manual disconnect stays down until reconnect or start', async () => {
    const peer = await analyzer();
    const { link, clock, log, handlers } = clientLink(peer.port);
    link.start();
    const socket = await peer.nextSocket();
    await log.nextStatus('connected');

    link.disconnect();
    expect(link.status).toMatchObject({
      state: 'error',
      reason: 'disconnected by the user; press Reconnect to connect again',
      disconnectedByUser: true,
      nextRetryAt: null,
    });
    await closedOf(socket);
    const gone = await log.nextOfType('disconnected');
    expect(gone.reason?.code).toBe('LINK_DISCONNECTED_BY_USER');
    expect(handlers[0]!.closedWith?.code).toBe('LINK_DISCONNECTED_BY_USER');
    expect(clock.timers).toBe(0);

    log.skip();
    clock.advance(3_600_000);
    await settle();
    expect(peer.accepted).toBe(1);
    expect(log.states()).not.toContain('reconnecting');
    expect(link.status.state).toBe('error');

    link.reconnect();
    await peer.nextSocket();
    await log.nextStatus('connected');

    link.disconnect();
    link.start();
    await peer.nextSocket();
    await log.nextStatus('connected');
    expect(peer.accepted).toBe(3);
  });

  it('gives up a connection attempt after connectTimeoutMs and retries', async () => {
    const attempts: Socket[] = [];
    const { link, clock, log } = clientLink(15_001, {
      connectTimeoutMs: 3_000,
      // A socket that never connects: what an address that drops SYNs looks like.
      connect: () => {
        const socket = new Socket();
        attempts.push(socket);
        return socket;
      },
    });
    link.start();
    clock.advance(2_999);
    expect(log.ofType('error')).toHaveLength(0);
    clock.advance(1);
    expect(log.ofType('error')).toEqual([
      {
        type: 'error',
        code: 'LINK_CONNECT_TIMEOUT',
        message:
          'could not connect to 127.0.0.1:15001 within 3 s: no answer (is the analyzer on and the address right?)',
      },
    ]);
    expect(attempts[0]!.destroyed).toBe(true);
    expect(link.status).toMatchObject({ state: 'reconnecting', nextRetryAt: clock.now() + 1_000 });

    clock.advance(1_000);
    expect(attempts).toHaveLength(2);
    expect(link.status).toMatchObject({
      state: 'connecting',
      reason: 'connecting to 127.0.0.1:15001 (attempt 2)',
    });
  });

  it('reports a refused connection in plain words and a throwing socket factory as a failure', async () => {
    const port = await freePort();
    const refused = clientLink(port);
    refused.link.start();
    const error = await refused.log.nextOfType('error');
    expect(error).toEqual({
      type: 'error',
      code: 'LINK_CONNECT_FAILED',
      message: `could not connect to 127.0.0.1:${port}: nothing is listening there (connection refused)`,
    });

    const broken = clientLink(port, {
      connect: () => {
        throw new Error('no network interface');
      },
    });
    broken.link.start();
    expect(broken.log.ofType('error')[0]).toMatchObject({
      code: 'LINK_CONNECT_FAILED',
      message: `could not connect to 127.0.0.1:${port}: no network interface`,
    });
    expect(broken.link.status.state).toBe('reconnecting');
  });

  it('turns on no-delay and keepalive on its socket', async () => {
    const peer = await analyzer();
    const made: Socket[] = [];
    const { link, log } = clientLink(peer.port, {
      keepAliveMs: 20_000,
      connect: (target) => {
        const socket = connect(target);
        vi.spyOn(socket, 'setNoDelay');
        vi.spyOn(socket, 'setKeepAlive');
        made.push(socket);
        return socket;
      },
    });
    link.start();
    await log.nextStatus('connected');
    expect(made[0]!.setNoDelay).toHaveBeenCalledWith(true);
    expect(made[0]!.setKeepAlive).toHaveBeenCalledWith(true, 20_000);
  });
});
