/**
 * Worklist download against a real order store, without sockets: the gateway's ASTM handler and
 * an analyzer's session joined by an in-memory line that can damage frames, on a fake clock.
 * Orders that arrive (or are cancelled) while a download is on the line go in the next session;
 * nothing is lost and nothing is sent twice; a cancellation goes out as O-12 `C`.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { instrumentConfigSchema } from '../../src-shared/config';
import { AstmConnectionHandler } from '../../src-main/gateway/astm-handler';
import type { InstrumentContext } from '../../src-main/gateway/context';
import { OrderDesk } from '../../src-main/orders';
import { decodeMessages } from '../../src-main/protocols/astm/message';
import { bytesToText } from '../../src-main/protocols/astm/records';
import { AstmSession } from '../../src-main/protocols/astm/session';
import { openStore, type Store } from '../../src-main/store/store';
import { FakeClock } from '../support/fake-clock';
import { tempDir } from '../support/temp';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function rig() {
  const temp = tempDir();
  const store: Store = openStore({ file: path.join(temp.dir, 'gw.sqlite') });
  cleanups.push(() => temp.remove());
  cleanups.push(() => store.close());
  const clock = new FakeClock();
  const config = instrumentConfigSchema.parse({
    id: 'chem1',
    protocol: 'astm',
    mode: 'server',
    port: 1,
    testCodes: { GLU: 'GLUC' },
    orders: { download: 'push' },
  });
  const desk = new OrderDesk({
    store,
    clock,
    instruments: () => [config],
    log: () => undefined,
  });
  const context: InstrumentContext = {
    config,
    clock,
    persist: (message) => store.enqueue(message),
    stored: () => undefined,
    storageFailed: () => undefined,
    protocolError: () => undefined,
    note: () => undefined,
    updateOutcome: (id, change) => store.updateMessageOutcome(id, change),
    nextControlId: () => 'X',
    orders: desk,
    ordersSent: (ids, messageId, cancelled) => desk.sent(config, ids, messageId, cancelled),
  };
  const toAnalyzer: Buffer[] = [];
  const toHost: Buffer[] = [];
  let damage = 0;
  const handler = new AstmConnectionHandler(
    {
      id: 'c#1',
      peer: 'test',
      write: (bytes) => {
        let out = bytes;
        if (damage > 0 && bytes[0] === 0x02) {
          damage--;
          out = Buffer.from(bytes);
          out[4] = (out[4] ?? 0) ^ 0x01;
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
  /** Moves one batch of bytes each way, then lets the store's promises run. */
  const step = async () => {
    while (toAnalyzer.length > 0) analyzer.receive(toAnalyzer.shift()!);
    while (toHost.length > 0) handler.onData(toHost.shift()!);
    for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  };
  const quiet = () => toAnalyzer.length === 0 && toHost.length === 0;
  const pump = async () => {
    for (let i = 0; i < 1000; i++) {
      await step();
      if (quiet()) {
        await step();
        if (quiet()) return;
      }
    }
    throw new Error('the line never went quiet');
  };
  const order = (sampleId: string, tests: string[]) =>
    store.applyOrders([
      { action: 'new', sampleId, tests, instrumentId: 'chem1', source: 'lis' },
    ])[0]!.orderId!;
  const sentCount = (id: number) => store.orderHistory(id).filter((h) => h.kind === 'sent').length;
  /** O records of a received message: sample, tests, action code. */
  const orders = (text: string) =>
    decodeMessages(text)[0]!.records.flatMap((r) =>
      r.type === 'O' ? [`${r.component(3)} ${r.raw(5)} ${r.component(12)}`] : [],
    );
  return {
    store,
    handler,
    received,
    step,
    pump,
    order,
    sentCount,
    orders,
    damage: (n: number) => (damage = n),
    clock,
  };
}

describe('worklist download while orders keep arriving', () => {
  it('sends a late order and a cancellation in the next session, each order once', async () => {
    const t = rig();
    const s1 = t.order('S1', ['GLUC']);
    const s2 = t.order('S2', ['NA']);
    t.damage(1); // the first frame arrives damaged: NAK, sent again
    t.handler.pushOrders();
    await t.step(); // ENQ → ACK
    await t.step(); // the (damaged) frame → NAK

    // Mid-session: a new order arrives, S2 is cancelled, and the gateway asks for a download.
    const s3 = t.order('S3', ['GLUC']);
    expect(t.store.cancelOrder(s2, 'the LIS')).toBe(true);
    t.handler.pushOrders();
    await t.pump();

    expect(t.received).toHaveLength(2);
    // The first session carries what was waiting when it began, as new orders.
    expect(t.orders(t.received[0]!)).toEqual(['S1 ^^^GLU N', 'S2 ^^^NA N']);
    // The next one: S2's cancellation first (it was already on the instrument), then S3.
    expect(t.orders(t.received[1]!)).toEqual(['S2 ^^^NA C', 'S3 ^^^GLU N']);
    expect(t.store.getOrder(s1)!.state).toBe('sent');
    expect(t.store.getOrder(s2)!.state).toBe('cancelled');
    expect(t.store.getOrder(s3)!.state).toBe('sent');
    expect([t.sentCount(s1), t.sentCount(s2), t.sentCount(s3)]).toEqual([1, 2, 1]);
    expect(t.store.orderHistory(s2).at(-1)!.detail).toBe('cancellation sent to chem1');

    // Nothing more to send: a later download finds nothing, nothing goes twice.
    t.handler.pushOrders();
    await t.pump();
    expect(t.received).toHaveLength(2);
  });

  it('does not send a cancellation for an order the instrument never got', async () => {
    const t = rig();
    const s1 = t.order('S1', ['GLUC']);
    t.store.cancelOrder(s1, 'the LIS');
    t.handler.pushOrders();
    await t.pump();
    expect(t.received).toEqual([]);
    expect(t.sentCount(s1)).toBe(0);
  });

  it('keeps a cancellation for the next session when the instrument stays busy', async () => {
    const t = rig();
    const s1 = t.order('S1', ['GLUC']);
    t.handler.pushOrders();
    await t.pump();
    t.store.cancelOrder(s1, 'the LIS');
    t.damage(100); // every frame damaged: six tries, then the session gives up
    t.handler.pushOrders();
    await t.pump();
    for (let i = 0; i < 8; i++) {
      t.clock.advance(15_000);
      await t.pump();
    }
    expect(t.received).toHaveLength(1);
    expect(t.sentCount(s1)).toBe(1);
    t.damage(0);
    for (let i = 0; i < 10 && t.received.length < 2; i++) {
      t.clock.advance(15_000);
      await t.pump();
    }
    expect(t.received).toHaveLength(2);
    expect(t.orders(t.received[1]!)).toEqual(['S1 ^^^GLU C']);
    expect(t.sentCount(s1)).toBe(2);
  });
});
