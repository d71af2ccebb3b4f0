/**
 * Floods, fast tier: streams that never end their block (a few MiB), a burst of 500 connection
 * attempts against a link limited to one, and senders that dribble a byte at a time. The soak
 * (`npm run test:soak`) sends 1 GB and 10,000 attempts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { InstrumentConfigInput } from '../../src-shared/config';
import { ACK, ENQ, EOT, ETX, NAK, STX } from '../../src-main/protocols/astm/control';
import { encodeFrame } from '../../src-main/protocols/astm/frame';
import { runSimulator } from '../../src-main/simulator/simulator';
import { FakeClock } from '../support/fake-clock';
import { freePort } from '../support/ports';
import { astmFrames, oruFramed, sendAstmSession, sendHl7 } from './support/analyzers';
import { connectionBurst, dribble, floodWithoutEnd } from './support/floods';
import { GatewayHarness } from './support/gateway-harness';
import { activeResources, formatResources, memoryNow, resourceGrowth } from './support/health';
import { AckReader, LOOPBACK, RawPeer, eventually, sleep } from './support/wire';

const MiB = 1_048_576;
const harnesses: GatewayHarness[] = [];
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((harness) => harness.dispose()));
});

async function start(
  instruments: InstrumentConfigInput[],
  clock?: FakeClock,
): Promise<GatewayHarness> {
  const harness = new GatewayHarness({ instruments, ...(clock ? { clock } : {}) });
  harnesses.push(harness);
  await harness.waitFor(
    instruments.map((i) => i.id),
    'listening',
  );
  return harness;
}

function codesOf(harness: GatewayHarness, instrumentId: string): string[] {
  return harness.tap.take(instrumentId).flatMap((entry) => (entry.code ? [entry.code] : []));
}

/** A sender on another link: all of its messages must be acknowledged meanwhile. */
function legitimateTraffic(port: number, messages = 40) {
  return runSimulator({
    protocol: 'hl7',
    target: { connect: { host: LOOPBACK, port } },
    messages,
    results: 3,
    intervalMs: 5,
    ackTimeoutMs: 10_000,
  });
}

describe('a stream that never ends its block', () => {
  it('HL7: MLLP_MESSAGE_TOO_LARGE at maxMessageBytes, memory bounded, then the connection recovers; another link is served', async () => {
    const [floodPort, otherPort] = [await freePort(), await freePort()];
    const harness = await start([
      {
        id: 'flood',
        protocol: 'hl7',
        mode: 'server',
        port: floodPort,
        maxMessageBytes: 65_536,
        maxBufferedBytes: MiB,
      },
      { id: 'other', protocol: 'hl7', mode: 'server', port: otherPort },
    ]);
    const before = memoryNow();
    const other = legitimateTraffic(otherPort);
    const flood = await floodWithoutEnd({
      port: floodPort,
      prefix: Buffer.of(0x0b),
      totalBytes: 4 * MiB,
      fill: 0x41,
      keepOpen: true,
    });
    const during = memoryNow();
    expect(flood.closedEarly).toBe(false);
    expect(during.heapUsedMiB - before.heapUsedMiB).toBeLessThan(16);
    expect(during.arrayBuffersMiB - before.arrayBuffersMiB).toBeLessThan(16);
    expect(harness.tap.count('MLLP_MESSAGE_TOO_LARGE')).toBe(1);

    // The block ends at last; the next message on the same connection is taken as usual.
    const reader = new AckReader(flood.peer!.socket);
    flood.peer!.socket.write(Buffer.of(0x1c, 0x0d));
    const ack = await sendHl7(reader, 'AFTER-FLOOD', 5_000);
    expect(ack?.code).toBe('AA');
    flood.peer!.destroy();

    const summary = await other;
    expect(summary).toMatchObject({ sent: 40, acked: 40, rejected: 0, failed: 0 });
  });

  it('HL7 with maxBufferedBytes below maxMessageBytes: LINK_BUFFER_LIMIT closes the connection; another link is served', async () => {
    const [floodPort, otherPort] = [await freePort(), await freePort()];
    const harness = await start([
      {
        id: 'flood',
        protocol: 'hl7',
        mode: 'server',
        port: floodPort,
        maxMessageBytes: MiB,
        maxBufferedBytes: 65_536,
      },
      { id: 'other', protocol: 'hl7', mode: 'server', port: otherPort },
    ]);
    const before = memoryNow();
    const other = legitimateTraffic(otherPort);
    const flood = await floodWithoutEnd({
      port: floodPort,
      prefix: Buffer.of(0x0b),
      totalBytes: 4 * MiB,
      fill: 0x41,
      keepOpen: true,
    });
    expect(await flood.peer!.until(() => flood.peer!.closed, 5_000)).toBe(true);
    const after = memoryNow();
    expect(after.arrayBuffersMiB - before.arrayBuffersMiB).toBeLessThan(16);
    expect(codesOf(harness, 'flood')).toContain('LINK_BUFFER_LIMIT');
    const summary = await other;
    expect(summary).toMatchObject({ sent: 40, acked: 40, rejected: 0, failed: 0 });
  });

  it('ASTM: an endless frame keeps memory bounded; when it ends it is NAKed and the line works again', async () => {
    const [floodPort, otherPort] = [await freePort(), await freePort()];
    const harness = await start([
      {
        id: 'flood',
        protocol: 'astm',
        mode: 'server',
        port: floodPort,
        maxMessageBytes: 65_536,
        maxBufferedBytes: 65_536,
      },
      { id: 'other', protocol: 'hl7', mode: 'server', port: otherPort },
    ]);
    const before = memoryNow();
    const other = legitimateTraffic(otherPort);
    const peer = await RawPeer.connect(floodPort);
    peer.socket.write(Buffer.of(ENQ));
    expect(await peer.nextByte(5_000)).toBe(ACK);
    await floodWithoutEnd({
      port: floodPort,
      peer,
      prefix: Buffer.of(STX, 0x31),
      totalBytes: 4 * MiB,
      fill: 0x78,
      keepOpen: true,
    });
    const during = memoryNow();
    expect(during.heapUsedMiB - before.heapUsedMiB).toBeLessThan(16);
    expect(during.arrayBuffersMiB - before.arrayBuffersMiB).toBeLessThan(16);

    peer.socket.write(Buffer.from([ETX, 0x5a, 0x5a, 0x0d, 0x0a]));
    expect(await peer.nextByte(5_000)).toBe(NAK);
    expect(codesOf(harness, 'flood')).toContain('ASTM_FRAME_TOO_LARGE');
    peer.socket.write(Buffer.of(EOT));
    expect(await sendAstmSession(peer, astmFrames('AFTER-FLOOD'), 5_000)).toEqual({
      kind: 'acked',
    });
    peer.destroy();
    const summary = await other;
    expect(summary).toMatchObject({ sent: 40, acked: 40, rejected: 0, failed: 0 });
  });

  it('ASTM: an endless frame is reported with a coded error once it passes the frame limit, not only when it ends', async () => {
    const port = await freePort();
    const harness = await start([
      {
        id: 'flood',
        protocol: 'astm',
        mode: 'server',
        port,
        maxMessageBytes: 65_536,
        maxBufferedBytes: 65_536,
      },
    ]);
    const peer = await RawPeer.connect(port);
    peer.socket.write(Buffer.of(ENQ));
    expect(await peer.nextByte(5_000)).toBe(ACK);
    await floodWithoutEnd({
      port,
      peer,
      prefix: Buffer.of(STX, 0x31),
      totalBytes: 4 * MiB,
      fill: 0x78,
      keepOpen: true,
    });
    const limitCodes = ['ASTM_FRAME_TOO_LARGE', 'ASTM_MESSAGE_TOO_LARGE', 'LINK_BUFFER_LIMIT'];
    const reported = await eventually(
      () => limitCodes.some((code) => harness.tap.count(code) > 0),
      2_000,
    );
    peer.destroy();
    expect(
      reported,
      '4 MiB of one frame (limit 64,000 text bytes) and no coded event 2 s later: the limit is reported only when the frame ends, or by the 30 s receiver timeout',
    ).toBe(true);
  });

  it('ASTM: a message longer than maxMessageBytes is refused (NAK or LINK_BUFFER_LIMIT), as for HL7', async () => {
    const port = await freePort();
    const harness = await start([
      {
        id: 'long',
        protocol: 'astm',
        mode: 'server',
        port,
        maxMessageBytes: 65_536,
        maxBufferedBytes: 65_536,
      },
    ]);
    const peer = await RawPeer.connect(port);
    peer.socket.write(Buffer.of(ENQ));
    expect(await peer.nextByte(5_000)).toBe(ACK);
    const header = Buffer.from('H|\\^&|||LONG^1|||||||P|LIS2-A2|20261126093000\r', 'latin1');
    peer.socket.write(encodeFrame(1, header, true));
    expect(await peer.nextByte(5_000)).toBe(ACK);
    // One comment record of 200,000 bytes in intermediate frames of 1,000 bytes.
    const part = Buffer.alloc(1_000, 0x78);
    let accepted = header.length;
    let refused = false;
    for (let n = 0; n < 200 && !refused; n++) {
      const frame = encodeFrame(
        (n + 2) % 8,
        n === 0 ? Buffer.from(`C|1|I|${'x'.repeat(994)}`) : part,
        false,
      );
      peer.socket.write(frame);
      const reply = await peer.nextByte(5_000);
      if (reply === ACK) accepted += 1_000;
      else refused = true;
    }
    peer.destroy();
    const codes = [...new Set(codesOf(harness, 'long'))];
    expect(refused, `accepted ${accepted} bytes; logged [${codes.join(', ')}]`).toBe(true);
    expect(accepted).toBeLessThanOrEqual(65_536);
    expect(accepted).toBeGreaterThan(64_000);
    expect(codes).toContain('ASTM_MESSAGE_TOO_LARGE');
  });

  it('ASTM: tiny frames, each sent with 60 KB of bytes the line ignores, do not pin the reads they came in', async () => {
    const port = await freePort();
    await start([{ id: 'pad', protocol: 'astm', mode: 'server', port }]);
    const peer = await RawPeer.connect(port);
    peer.socket.write(Buffer.of(ENQ));
    expect(await peer.nextByte(5_000)).toBe(ACK);
    peer.socket.write(encodeFrame(1, Buffer.from('H|\\^&|||PAD^1\r'), true));
    expect(await peer.nextByte(5_000)).toBe(ACK);
    const before = memoryNow();
    // Between frames E1381 ignores everything but control bytes; 500 frames carry 500 text bytes.
    const padding = Buffer.alloc(60_000, 0x20);
    for (let n = 0; n < 500; n++) {
      peer.socket.write(Buffer.concat([padding, encodeFrame((n + 2) % 8, Buffer.of(0x41), false)]));
      expect(await peer.nextByte(5_000)).toBe(ACK);
    }
    const after = memoryNow();
    peer.destroy();
    expect(
      after.arrayBuffersMiB - before.arrayBuffersMiB,
      'MiB of buffers retained for a message of 500 text bytes (29 MiB sent)',
    ).toBeLessThan(8);
  }, 60_000); // socket-heavy: slower when the machine is shared
});

describe('a burst of connection attempts', () => {
  it('500 attempts against a link limited to 1: each refused and logged, the connected analyzer keeps working, no socket left', async () => {
    const resourcesBefore = activeResources();
    const port = await freePort();
    const harness = await start([
      { id: 'one', protocol: 'hl7', mode: 'server', port, maxConnections: 1 },
    ]);
    const analyzer = await AckReader.connect(port);
    await eventually(() => harness.gateway.status('one')?.peers.length === 1, 5_000);
    let acked = 0;
    let sending = true;
    const traffic = (async () => {
      for (let n = 0; sending; n++) {
        const ack = await sendHl7(analyzer, `KEEP${n}`, 10_000, 2);
        if (ack?.code !== 'AA')
          throw new Error(`message KEEP${n} answered ${ack?.code ?? 'nothing'}`);
        acked++;
      }
    })();
    const burst = await connectionBurst({ port, attempts: 500, concurrency: 100 });
    sending = false;
    await traffic;
    expect(burst).toMatchObject({ attempts: 500, endedByGateway: 500, failed: 0 });
    expect(harness.tap.count('LINK_TOO_MANY_CONNECTIONS')).toBe(500);
    expect(harness.tap.examples.get('LINK_TOO_MANY_CONNECTIONS')?.[0]).toMatch(
      /^refused 127\.0\.0\.1:\d+: 1 connection is already open and the limit is 1$/,
    );
    expect(acked).toBeGreaterThan(0);
    expect(harness.gateway.status('one')?.peers).toHaveLength(1);
    analyzer.peer.destroy();

    await harness.dispose();
    await eventually(() => resourceGrowth(resourcesBefore, activeResources()).length === 0, 3_000);
    const growth = resourceGrowth(resourcesBefore, activeResources());
    expect(growth, `now: ${formatResources(activeResources())}`).toEqual([]);
  }, 60_000); // socket-heavy: slower when the machine is shared
});

describe('slow senders', () => {
  it('a message dribbled one byte every 5 ms is received and acknowledged (HL7 and ASTM)', async () => {
    const [hl7Port, astmPort] = [await freePort(), await freePort()];
    const harness = await start([
      { id: 'slow-hl7', protocol: 'hl7', mode: 'server', port: hl7Port },
      { id: 'slow-astm', protocol: 'astm', mode: 'server', port: astmPort },
    ]);
    const pause = () => sleep(5);
    const hl7 = (async () => {
      const reader = await AckReader.connect(hl7Port);
      await dribble(reader.peer, oruFramed('SLOW1', 2), pause);
      const ack = await reader.through('SLOW1', 5_000);
      reader.peer.destroy();
      return ack?.at(-1)?.code ?? null;
    })();
    const astm = (async () => {
      const peer = await RawPeer.connect(astmPort);
      const replies: (number | null)[] = [];
      peer.socket.write(Buffer.of(ENQ));
      replies.push(await peer.nextByte(5_000));
      for (const frame of astmFrames('SLOWASTM', 2)) {
        for (const byte of frame) {
          peer.socket.write(Buffer.of(byte));
          await pause();
        }
        replies.push(await peer.nextByte(5_000));
      }
      peer.socket.write(Buffer.of(EOT));
      peer.destroy();
      return replies;
    })();
    expect(await hl7).toBe('AA');
    expect((await astm).every((reply) => reply === ACK)).toBe(true);
    const stored = [...harness.store.messagesForCli({})].map((m) => m.controlId ?? m.sampleIds[0]);
    expect(stored.sort()).toEqual(['SLOW1', 'SLOWASTM']);
  });

  it('HL7 at one byte per second (fake clock) is received; a gap longer than idleTimeoutMs closes it with LINK_IDLE_TIMEOUT', async () => {
    const clock = new FakeClock();
    const port = await freePort();
    const harness = await start(
      [{ id: 'drip', protocol: 'hl7', mode: 'server', port, idleTimeoutMs: 5_000 }],
      clock,
    );
    const seen = () => harness.gateway.status('drip')?.lastActivityAt === clock.now();
    const reader = await AckReader.connect(port);
    const peer = reader.peer;
    await dribble(peer, oruFramed('DRIP1', 2), async () => {
      await eventually(seen, 5_000, 1);
      clock.advance(1_000);
    });
    expect((await reader.through('DRIP1', 5_000))?.at(-1)?.code).toBe('AA');

    // Half of the next message, then silence for longer than the idle timeout.
    const half = oruFramed('DRIP2', 2).subarray(0, 60);
    peer.socket.write(half);
    await eventually(seen, 5_000, 1);
    clock.advance(5_001);
    expect(await peer.until(() => peer.closed, 5_000)).toBe(true);
    const codes = codesOf(harness, 'drip');
    expect(codes).toContain('LINK_IDLE_TIMEOUT');
    expect(harness.tap.examples.get('LINK_IDLE_TIMEOUT')?.[0]).toBe(
      'closed the connection: nothing received for 5 s; the analyzer may be off or the network cut (half-open connection)',
    );
    expect([...harness.store.messagesForCli({})].map((m) => m.controlId)).toEqual(['DRIP1']);
  });

  it('ASTM at one byte per second (fake clock): E1381 gives a frame 30 s, so the receiver times out and nothing is acknowledged', async () => {
    const clock = new FakeClock();
    const port = await freePort();
    const harness = await start([{ id: 'drip', protocol: 'astm', mode: 'server', port }], clock);
    const peer = await RawPeer.connect(port);
    peer.socket.write(Buffer.of(ENQ));
    expect(await peer.nextByte(5_000)).toBe(ACK);
    const seen = () => harness.gateway.status('drip')?.lastActivityAt === clock.now();
    const frame = astmFrames('DRIPASTM', 1)[0]!;
    for (const byte of frame.subarray(0, 40)) {
      peer.socket.write(Buffer.of(byte));
      await eventually(seen, 5_000, 1);
      clock.advance(1_000);
    }
    expect(codesOf(harness, 'drip')).toContain('ASTM_RECEIVER_TIMEOUT');
    expect(peer.replies).toEqual([]);
    peer.destroy();
  });
});
