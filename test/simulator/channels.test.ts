import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AstmSession } from '../../src-main/protocols/astm/session';
import { buildAck, type AckCode } from '../../src-main/protocols/hl7/ack';
import { parseHl7 } from '../../src-main/protocols/hl7/message';
import { frameMllp, MllpFramer } from '../../src-main/protocols/hl7/mllp';
import { openChannel, type ChannelEvents } from '../../src-main/simulator/channels';
import { simulateSample } from '../../src-main/simulator/content';
import { FakeClock } from '../support/fake-clock';
import { waitFor } from '../support/ports';

const sockets: net.Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
});

/** A connected pair on loopback: the analyzer's end and the gateway's. */
async function socketPair(): Promise<{ analyzer: net.Socket; gateway: net.Socket }> {
  const server = net.createServer();
  server.listen({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  const address = server.address() as net.AddressInfo;
  const accepted = once(server, 'connection');
  const analyzer = net.connect({ host: '127.0.0.1', port: address.port });
  const [gateway] = (await accepted) as [net.Socket];
  await once(analyzer, 'connect');
  server.close();
  gateway.on('error', () => {});
  sockets.push(analyzer, gateway);
  return { analyzer, gateway };
}

/** Records what the channel reports, in order. */
function recorder(): { log: string[]; events: Required<ChannelEvents> } {
  const log: string[] = [];
  return {
    log,
    events: {
      acked: (id) => log.push(`acked ${id}`),
      failed: (id, error) => log.push(`failed ${id}: ${error}`),
      lost: (why) => log.push(`lost: ${why}`),
    },
  };
}

const sample = (sampleId: string, at: number) => simulateSample(sampleId, 2, at, () => 0.5);

/** The gateway's side of HL7: answers each message with `code`. */
function answerHl7(gateway: net.Socket, code: AckCode): void {
  const framer = new MllpFramer();
  gateway.on('data', (chunk: Buffer) => {
    for (const item of framer.push(chunk)) {
      if (item.kind !== 'message') continue;
      const message = parseHl7(item.payload.toString('latin1'));
      const ack = buildAck(message, code, { now: '20260101120000', controlId: 'ACK1' });
      gateway.write(frameMllp(ack.payload));
    }
  });
}

describe('analyzer channels', () => {
  it('sends an HL7 result and reports it acknowledged by its control ID', async () => {
    const { analyzer, gateway } = await socketPair();
    answerHl7(gateway, 'AA');
    const clock = new FakeClock();
    const { log, events } = recorder();
    const channel = openChannel('hl7', analyzer, { clock }, events);

    channel.send(sample('H1', clock.now()), 'C1', clock.now());
    expect(channel.idle).toBe(false);
    await waitFor(() => log.length > 0, 'the ACK');

    expect(log).toEqual(['acked C1']);
    expect(channel.idle).toBe(true);
  });

  it('reports an HL7 rejection and a missing ACK in words', async () => {
    const { analyzer, gateway } = await socketPair();
    answerHl7(gateway, 'AE');
    const clock = new FakeClock();
    const { log, events } = recorder();
    const channel = openChannel('hl7', analyzer, { clock, ackTimeoutMs: 1_000 }, events);

    channel.send(sample('H1', clock.now()), 'C1', clock.now());
    await waitFor(() => log.length > 0, 'the AE');
    expect(log[0]).toMatch(/^failed C1: rejected AE: /);

    gateway.removeAllListeners('data');
    channel.send(sample('H2', clock.now()), 'C2', clock.now());
    clock.advance(1_000);
    expect(log[1]).toBe('failed C2: timeout: no ACK for message C2 within 1 s');
    expect(channel.idle).toBe(true);
  });

  it('sends an ASTM result (ENQ, frames, EOT) and reports it acknowledged by its sample ID', async () => {
    const { analyzer, gateway } = await socketPair();
    const clock = new FakeClock();
    const received: string[] = [];
    const host = new AstmSession({
      clock,
      role: 'host',
      onEvent: (event) => {
        if (event.type === 'send') gateway.write(event.bytes);
        if (event.type !== 'messages') return;
        received.push(...event.messages.map((m) => Buffer.from(m.text).toString('latin1')));
        // Stored: the last frame may be acknowledged now.
        queueMicrotask(() => host.settle(true));
      },
    });
    gateway.on('data', (chunk: Buffer) => host.receive(chunk));
    const { log, events } = recorder();
    const channel = openChannel('astm', analyzer, { clock }, events);

    channel.send(sample('S1', clock.now()), 'S1', clock.now());
    expect(channel.idle).toBe(false);
    await waitFor(() => log.length > 0 && received.length > 0, 'the delivery');

    expect(log).toEqual(['acked S1']);
    expect(received[0]).toContain('S1');
    expect(channel.idle).toBe(true);
    host.close();
  });

  it('fails what the protocol still holds before it reports the connection lost', async () => {
    const { analyzer, gateway } = await socketPair();
    const clock = new FakeClock();
    const { log, events } = recorder();
    const channel = openChannel('astm', analyzer, { clock }, events);

    channel.send(sample('S1', clock.now()), 'S1', clock.now());
    gateway.end();
    await waitFor(() => channel.lost !== null, 'the loss');

    expect(log).toEqual([
      'failed S1: rejected: message S1 not delivered: connection closed',
      'lost: the gateway closed the connection',
    ]);
    expect(channel.lost).toBe('the gateway closed the connection');
  });
});
