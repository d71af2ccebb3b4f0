/**
 * Floods, long run: 1 GB with no end block on an HL7 link and on an ASTM link (generated on the
 * fly), and 10,000 connection attempts in a burst against a link limited to one connection,
 * each while a legitimate analyzer is served on another link.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ACK, ENQ, STX } from '../../../src-main/protocols/astm/control';
import { freePort } from '../../support/ports';
import { sendHl7 } from '../support/analyzers';
import { backgroundTraffic, connectionBurst, floodWithoutEnd } from '../support/floods';
import { GatewayHarness } from '../support/gateway-harness';
import {
  activeResources,
  formatResources,
  memoryNow,
  resourceGrowth,
  trackPeakMemory,
} from '../support/health';
import { writeSoakResult } from '../support/results';
import { AckReader, RawPeer, eventually } from '../support/wire';

const GiB = 1024 ** 3;
const figures: Record<string, unknown> = {};
let passed = true;

afterAll(() => {
  writeSoakResult('floods', passed, figures);
});

async function floodRun(protocol: 'hl7' | 'astm') {
  const [floodPort, otherPort] = [await freePort(), await freePort()];
  const harness = new GatewayHarness({
    instruments: [
      {
        id: 'flood',
        protocol,
        mode: 'server',
        port: floodPort,
        maxMessageBytes: 65_536,
        maxBufferedBytes: 1_048_576,
      },
      // Two connections: each simulator run opens a new one as the previous one is closing.
      { id: 'other', protocol: 'hl7', mode: 'server', port: otherPort, maxConnections: 2 },
    ],
  });
  try {
    await harness.waitFor(['flood', 'other'], 'listening');
    const dbBefore = harness.store.fileSize();
    const before = memoryNow();
    const peak = trackPeakMemory(50);
    const traffic = backgroundTraffic(otherPort);
    const peer = await RawPeer.connect(floodPort);
    if (protocol === 'astm') {
      peer.socket.write(Buffer.of(ENQ));
      expect(await peer.nextByte(5_000)).toBe(ACK);
    }
    const flood = await floodWithoutEnd({
      port: floodPort,
      peer,
      prefix: protocol === 'hl7' ? Buffer.of(0x0b) : Buffer.of(STX, 0x31),
      totalBytes: GiB,
      fill: 0x41,
      keepOpen: true,
    });
    const after = memoryNow();
    const served = await traffic.stop();
    const peakMemory = peak.stop();
    // The flood's bytes have all been read once a message on the same connection is answered.
    let recovered: string | null = null;
    if (protocol === 'hl7') {
      const reader = new AckReader(peer.socket);
      peer.socket.write(Buffer.of(0x1c, 0x0d));
      recovered = (await sendHl7(reader, 'AFTER-GB', 30_000))?.code ?? null;
    }
    peer.destroy();
    const result = {
      bytes: flood.sent,
      durationMs: flood.durationMs,
      mbPerSecond: Math.round(flood.sent / 1e6 / (flood.durationMs / 1000)),
      closedEarly: flood.closedEarly,
      memory: { before, after, peak: peakMemory },
      databaseGrowthMiB: Math.round((harness.store.fileSize() - dbBefore) / 1_048_576),
      codes: Object.fromEntries(harness.tap.codeCounts),
      otherLink: served,
      recovered,
    };
    figures[`${protocol}Flood`] = result;
    return result;
  } finally {
    await harness.dispose();
  }
}

describe('1 GB with no end block', () => {
  it('HL7: memory bounded, coded error at once, the other link served, the connection recovers', async () => {
    try {
      const result = await floodRun('hl7');
      expect(result.bytes).toBe(GiB);
      expect(result.codes.MLLP_MESSAGE_TOO_LARGE).toBe(1);
      expect(result.memory.after.heapUsedMiB - result.memory.before.heapUsedMiB).toBeLessThan(16);
      expect(result.memory.peak.arrayBuffersMiB).toBeLessThan(256);
      expect(result.otherLink).toMatchObject({ rejected: 0, failed: 0 });
      expect(result.otherLink.acked).toBe(result.otherLink.sent);
      expect(result.recovered).toBe('AA');
    } catch (error) {
      passed = false;
      throw error;
    }
  });

  it('ASTM: memory bounded, the other link served', async () => {
    try {
      const result = await floodRun('astm');
      expect(result.bytes).toBe(GiB);
      expect(result.memory.after.heapUsedMiB - result.memory.before.heapUsedMiB).toBeLessThan(16);
      expect(result.memory.peak.arrayBuffersMiB).toBeLessThan(256);
      expect(result.otherLink).toMatchObject({ rejected: 0, failed: 0 });
      expect(result.otherLink.acked).toBe(result.otherLink.sent);
    } catch (error) {
      passed = false;
      throw error;
    }
  });
});

describe('10,000 connection attempts in a burst', () => {
  it('each refused and logged, the connected analyzer keeps working, no socket left', async () => {
    try {
      const resourcesBefore = activeResources();
      const port = await freePort();
      const harness = new GatewayHarness({
        instruments: [{ id: 'one', protocol: 'hl7', mode: 'server', port, maxConnections: 1 }],
      });
      let burst;
      let acked = 0;
      let refusedLogged = 0;
      try {
        await harness.waitFor(['one'], 'listening');
        const analyzer = await AckReader.connect(port);
        await eventually(() => harness.gateway.status('one')?.peers.length === 1, 5_000);
        let sending = true;
        const latencies: number[] = [];
        const traffic = (async () => {
          for (let n = 0; sending; n++) {
            const t0 = performance.now();
            const ack = await sendHl7(analyzer, `KEEP${n}`, 10_000, 2);
            if (ack?.code !== 'AA') throw new Error(`KEEP${n} answered ${ack?.code ?? 'nothing'}`);
            latencies.push(performance.now() - t0);
            acked++;
          }
        })();
        burst = await connectionBurst({
          port,
          attempts: 10_000,
          concurrency: 500,
          timeoutMs: 30_000,
        });
        sending = false;
        await traffic;
        analyzer.peer.destroy();
        refusedLogged = harness.tap.count('LINK_TOO_MANY_CONNECTIONS');
        latencies.sort((a, b) => a - b);
        figures.burst = {
          ...burst,
          refusedLogged,
          analyzerAcked: acked,
          analyzerP99Ms:
            Math.round((latencies[Math.floor(0.99 * (latencies.length - 1))] ?? 0) * 100) / 100,
          example: harness.tap.examples.get('LINK_TOO_MANY_CONNECTIONS')?.[0] ?? null,
        };
      } finally {
        await harness.dispose();
      }
      await eventually(
        () => resourceGrowth(resourcesBefore, activeResources()).length === 0,
        5_000,
      );
      const growth = resourceGrowth(resourcesBefore, activeResources());
      (figures.burst as Record<string, unknown>).resourceGrowth = growth;
      expect(burst).toMatchObject({ attempts: 10_000, endedByGateway: 10_000, failed: 0 });
      expect(refusedLogged).toBe(10_000);
      expect(acked).toBeGreaterThan(0);
      expect(growth, formatResources(activeResources())).toEqual([]);
    } catch (error) {
      passed = false;
      throw error;
    }
  });
});
