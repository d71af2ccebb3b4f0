/**
 * Reconnect storm, fast tier: 50 client links whose analyzers flap (see support/storm.ts). The
 * soak runs 200. Afterwards: every acknowledged message stored exactly once, resends recognised,
 * no timer left on the gateway's clock, no socket or timer left in the process.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports';
import { astmFrames, sendAstmSession, sendHl7 } from './support/analyzers';
import { GatewayHarness } from './support/gateway-harness';
import { chooseSeed } from './support/random';
import { runReconnectStorm, type StormResult } from './support/storm';
import { AckReader, RawPeer } from './support/wire';

const seed = chooseSeed();
let result: StormResult;

beforeAll(async () => {
  result = await runReconnectStorm({
    links: 50,
    seed,
    messagesPerLink: 6,
    minConnections: 8,
    timeoutMs: 20_000,
  });
  console.log(
    `storm seed ${seed}: ${result.links} links, ${result.connections} connections in ${result.durationMs} ms, ` +
      `${result.acknowledged} acknowledged, ${result.resent} resent, ${result.recognisedResends} recognised as stored; ` +
      `${JSON.stringify(result.behaviours)}`,
  );
}, 60_000);

describe(`reconnect storm: 50 client links with flapping analyzers (seed ${seed})`, () => {
  it('keeps the process up and every analyzer gets all its messages acknowledged', () => {
    expect(result.uncaught, `seed ${seed}`).toEqual([]);
    expect(result.unfinished, `seed ${seed}`).toEqual([]);
    expect(result.acknowledged).toBe(50 * 6);
    expect(result.connections).toBeGreaterThanOrEqual(50 * 8);
  });

  it('stores every acknowledged message exactly once, resends included', () => {
    expect(result.missing, `seed ${seed}`).toEqual([]);
    expect(result.duplicates, `seed ${seed}`).toEqual([]);
    expect(result.resent).toBeGreaterThan(0);
  });

  it('leaves no timer on the gateway clock and no socket or timer in the process once closed', () => {
    expect(result.timersLeft, `seed ${seed}`).toBe(0);
    expect(
      result.resourceGrowth,
      `seed ${seed}: before ${result.resourcesBefore}; after ${result.resourcesAfter}`,
    ).toEqual([]);
  });
});

/**
 * An analyzer that opens a connection per message: it sends, gets its ACK (ASTM: and sends EOT),
 * closes, and connects again at once. Its end reaches the gateway before the new connection
 * does, so the new one must find the slot free.
 */
describe('an analyzer that reconnects right after closing (one connection per message)', () => {
  it.each(['hl7', 'astm'] as const)(
    '%s: on a link limited to 1, each new connection after a close is accepted, never refused',
    async (protocol) => {
      const port = await freePort();
      const harness = new GatewayHarness({
        instruments: [{ id: 'one', protocol, mode: 'server', port, maxConnections: 1 }],
      });
      try {
        await harness.waitFor(['one'], 'listening');
        let acked = 0;
        for (let n = 0; n < 20; n++) {
          const id = `PERMSG${n}`;
          if (protocol === 'hl7') {
            const reader = await AckReader.connect(port);
            if ((await sendHl7(reader, id, 5_000, 1))?.code === 'AA') acked++;
            reader.peer.destroy();
          } else {
            const peer = await RawPeer.connect(port);
            if ((await sendAstmSession(peer, astmFrames(id, 1), 5_000)).kind === 'acked') acked++;
            peer.destroy();
          }
        }
        const refused = harness.tap.count('LINK_TOO_MANY_CONNECTIONS');
        expect(
          { acked, refused },
          `20 connections one after another, each closed before the next opened: ${refused} refused ("${harness.tap.examples.get('LINK_TOO_MANY_CONNECTIONS')?.[0] ?? ''}")`,
        ).toEqual({ acked: 20, refused: 0 });
      } finally {
        await harness.dispose();
      }
    },
  );
});
