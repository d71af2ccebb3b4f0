/**
 * The host side's answer and download sessions without sockets: the gateway's ASTM handler and
 * an analyzer's session joined by an in-memory line that can corrupt bytes, on a fake clock.
 */
import { describe, expect, it } from 'vitest';
import { instrumentConfigSchema } from '../../src-shared/config';
import { AstmConnectionHandler } from '../../src-main/gateway/astm-handler';
import type { InstrumentContext } from '../../src-main/gateway/context';
import type { OrderDownload } from '../../src-main/gateway/orders-port';
import {
  decodeMessages,
  encodeAstmMessage,
  recordsToBytes,
} from '../../src-main/protocols/astm/message';
import { bytesToText } from '../../src-main/protocols/astm/records';
import { AstmSession } from '../../src-main/protocols/astm/session';
import { FakeClock } from '../support/fake-clock';

const DOWNLOAD_RECORDS = encodeAstmMessage({
  header: { sender: 'LABGATEWAY' },
  patients: [{ patientId: 'P1', orders: [{ specimenId: 'S1', tests: ['GLU'], actionCode: 'N' }] }],
  termination: 'F',
});

function rig() {
  const clock = new FakeClock();
  const sent: number[][] = [];
  let pending: OrderDownload | null = {
    records: DOWNLOAD_RECORDS,
    orderIds: [1],
    sampleIds: ['S1'],
    patientIds: ['P1'],
    cancelledIds: [],
  };
  let nextId = 0;
  const context: InstrumentContext = {
    config: instrumentConfigSchema.parse({
      id: 'chem1',
      protocol: 'astm',
      mode: 'server',
      port: 1,
      orders: { download: 'push' },
    }),
    clock,
    persist: () => Promise.resolve({ id: ++nextId, duplicate: false }),
    stored: () => undefined,
    storageFailed: () => undefined,
    protocolError: () => undefined,
    note: () => undefined,
    updateOutcome: () => undefined,
    nextControlId: () => 'X',
    orders: {
      answerHostQuery: () => null,
      hl7OrdersFor: () => [],
      nextHl7Download: () => [],
      resultsStored: () => undefined,
      sent: () => undefined,
      nextDownload: () => {
        const d = pending;
        pending = null;
        return d;
      },
    },
    ordersSent: (ids) => sent.push([...ids]),
  };
  /** Bytes on their way, each direction; `corrupt` damages the next frame to the analyzer. */
  const toAnalyzer: Buffer[] = [];
  const toHost: Buffer[] = [];
  let corruptNextFrame = false;
  const handler = new AstmConnectionHandler(
    {
      id: 'c#1',
      peer: 'test',
      write: (bytes) => {
        let out = bytes;
        if (corruptNextFrame && bytes[0] === 0x02) {
          corruptNextFrame = false;
          out = Buffer.from(bytes);
          out[3] = (out[3] ?? 0) ^ 0x20;
        }
        toAnalyzer.push(out);
        return true;
      },
      close: () => undefined,
    },
    context,
  );
  const received: string[] = [];
  const analyzer = new AstmSession({
    clock,
    role: 'instrument',
    onEvent: (event) => {
      if (event.type === 'send') toHost.push(event.bytes);
      else if (event.type === 'messages') {
        for (const m of event.messages) received.push(bytesToText(m.text));
        analyzer.settle(true);
      }
    },
  });
  /** Moves every byte across until the line is quiet (promises of the store included). */
  const pump = async () => {
    for (let i = 0; i < 1000; i++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (toAnalyzer.length === 0 && toHost.length === 0) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (toAnalyzer.length === 0 && toHost.length === 0) return;
      }
      while (toAnalyzer.length > 0) analyzer.receive(toAnalyzer.shift()!);
      while (toHost.length > 0) handler.onData(toHost.shift()!);
    }
  };
  return {
    clock,
    handler,
    analyzer,
    received,
    sent,
    pump,
    corrupt: () => (corruptNextFrame = true),
  };
}

describe('the host side of a worklist download', () => {
  it('retries after a busy NAK once the transport allows (10 s), then the orders count as sent', async () => {
    const t = rig();
    t.analyzer.busy = true;
    t.handler.pushOrders();
    await t.pump();
    expect(t.received).toEqual([]);
    t.analyzer.busy = false;
    t.clock.advance(9_999);
    await t.pump();
    expect(t.received).toEqual([]);
    t.clock.advance(1);
    await t.pump();
    expect(t.received).toHaveLength(1);
    expect(decodeMessages(t.received[0]!)[0]!.text).toContain('O|1|S1||^^^GLU|');
    expect(t.sent).toEqual([[1]]);
  });

  it('resends a frame the analyzer answered NAK', async () => {
    const t = rig();
    t.corrupt();
    t.handler.pushOrders();
    await t.pump();
    expect(t.received).toHaveLength(1);
    expect(t.sent).toEqual([[1]]);
  });

  it('yields on contention: the analyzer sends first, the download follows', async () => {
    const t = rig();
    t.analyzer.send(
      recordsToBytes(
        encodeAstmMessage({ header: { sender: 'AN' }, queries: [{ specimenIds: ['Q1'] }] }),
      ),
      'query',
    );
    t.handler.pushOrders(); // both ENQs cross on the line
    await t.pump();
    expect(t.received).toEqual([]);
    t.clock.advance(1_000); // the instrument sends ENQ again after 1 s and wins
    await t.pump();
    t.clock.advance(20_000);
    await t.pump();
    expect(t.received).toHaveLength(1);
    expect(t.sent).toEqual([[1]]);
  });

  it('does not count orders as sent when the instrument interrupts and the session ends', async () => {
    const t = rig();
    t.handler.pushOrders();
    t.handler.onClose({ code: 'LINK_PEER_CLOSED', message: 'gone' });
    await t.pump();
    expect(t.sent).toEqual([]);
  });
});
