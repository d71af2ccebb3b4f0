import { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { probeConnection, type ProbeResult } from '../../src-main/links';
import { FakeClock } from '../support/fake-clock';
import { closedOf, RawServer, settle } from './helpers';

const open: RawServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((server) => server.close()));
});

/** A socket that never connects until the test makes it fail: what a dropped SYN looks like. */
function silentSocket(): { sockets: Socket[]; connect: () => Socket } {
  const sockets: Socket[] = [];
  return {
    sockets,
    connect: () => {
      const socket = new Socket();
      sockets.push(socket);
      return socket;
    },
  };
}

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`connect ${code}`), { code });
}

/** Lets a test look at the probe's result without waiting for it. */
function track(probe: Promise<ProbeResult>): { readonly result: ProbeResult | null } {
  const seen: { result: ProbeResult | null } = { result: null };
  void probe.then((result) => (seen.result = result));
  return seen;
}

/** Probes with a socket that fails with `code` as soon as it is made. */
async function probeFailingWith(code: string): Promise<ProbeResult> {
  const clock = new FakeClock();
  const fake = silentSocket();
  const probe = probeConnection(
    { host: 'analyzer.lab', port: 5000 },
    { clock, connect: fake.connect },
  );
  fake.sockets[0]!.emit('error', errno(code));
  const result = await probe;
  // The answer came first: no timeout is left waiting.
  expect(clock.timers).toBe(0);
  return result;
}

describe('probeConnection', () => {
  it('reports an analyzer that accepts, then closes the connection it opened', async () => {
    const server = await RawServer.listen();
    open.push(server);

    const result = await probeConnection({ host: '127.0.0.1', port: server.port });

    expect(result).toMatchObject({
      ok: true,
      code: 'LINK_PROBE_ACCEPTED',
      message: `127.0.0.1:${server.port} accepted a connection`,
    });
    expect(result.elapsedMs).toBeGreaterThanOrEqual(0);
    await closedOf(await server.nextSocket(), 'the probe to close its connection');
  });

  it('reports a closed port as refused', async () => {
    const server = await RawServer.listen();
    await server.close();

    const result = await probeConnection({ host: '127.0.0.1', port: server.port });

    expect(result).toMatchObject({
      ok: false,
      code: 'LINK_PROBE_REFUSED',
      message: `could not connect to 127.0.0.1:${server.port}: nothing is listening on that port (connection refused)`,
    });
  });

  it('gives up after timeoutMs without an answer and destroys the attempt', async () => {
    const clock = new FakeClock();
    const fake = silentSocket();
    const probe = track(
      probeConnection(
        { host: 'analyzer.lab', port: 4001, timeoutMs: 2_000 },
        { clock, connect: fake.connect },
      ),
    );

    clock.advance(1_999);
    await settle();
    expect(probe.result).toBeNull();
    clock.advance(1);
    await settle();

    expect(probe.result).toEqual({
      ok: false,
      code: 'LINK_PROBE_TIMEOUT',
      message: 'no answer from analyzer.lab:4001 within 2 s (is the analyzer on and reachable?)',
      elapsedMs: 2_000,
    });
    expect(fake.sockets[0]!.destroyed).toBe(true);
    // A late error from the abandoned attempt changes nothing and throws nowhere.
    fake.sockets[0]!.emit('error', errno('ECONNREFUSED'));
    await settle();
    expect(probe.result).toMatchObject({ code: 'LINK_PROBE_TIMEOUT' });
  });

  it('waits 3 s by default', async () => {
    const clock = new FakeClock();
    const fake = silentSocket();
    const probe = track(
      probeConnection({ host: 'analyzer.lab', port: 4001 }, { clock, connect: fake.connect }),
    );
    clock.advance(2_999);
    await settle();
    expect(probe.result).toBeNull();
    clock.advance(1);
    await settle();
    expect(probe.result).toMatchObject({ code: 'LINK_PROBE_TIMEOUT', elapsedMs: 3_000 });
  });

  it('says in words when the host name is unknown or the host cannot be reached', async () => {
    expect(await probeFailingWith('ENOTFOUND')).toMatchObject({
      ok: false,
      code: 'LINK_PROBE_UNKNOWN_HOST',
      message: 'could not connect to analyzer.lab:5000: the host name is unknown',
    });
    for (const code of ['EHOSTUNREACH', 'ENETUNREACH']) {
      expect(await probeFailingWith(code)).toMatchObject({
        ok: false,
        code: 'LINK_PROBE_UNREACHABLE',
        message:
          'could not connect to analyzer.lab:5000: the host cannot be reached from this computer',
      });
    }
    expect(await probeFailingWith('ECONNRESET')).toMatchObject({
      ok: false,
      code: 'LINK_PROBE_FAILED',
      message: 'could not connect to analyzer.lab:5000: the other side reset the connection',
    });
  });

  it('reports a connect factory that throws instead of rejecting', async () => {
    const result = await probeConnection(
      { host: '127.0.0.1', port: 5000 },
      {
        connect: () => {
          throw new Error('no network interface');
        },
      },
    );
    expect(result).toMatchObject({
      ok: false,
      code: 'LINK_PROBE_FAILED',
      message: 'could not connect to 127.0.0.1:5000: no network interface',
    });
  });
});
