import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src-main/store/store';
import type { OrderChange } from '../../src-main/store/orders';
import { tempDir } from '../support/temp';

const DAY = 24 * 3600_000;
let now = Date.UTC(2026, 10, 26, 10, 0, 0);
const cleanups: (() => void)[] = [];

function fresh(): Store {
  const temp = tempDir();
  const store = openStore({ file: path.join(temp.dir, 'orders.sqlite'), now: () => now });
  cleanups.push(() => {
    store.close();
    temp.remove();
  });
  return store;
}

afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const order = (over: Partial<OrderChange> = {}): OrderChange => ({
  action: 'new',
  sampleId: 'SID001',
  patientId: 'PID001',
  patientName: 'DOE JOHN',
  tests: ['GLUC', 'CREAT'],
  source: 'lis',
  ...over,
});

describe('the order store', () => {
  it('keeps a new order pending, and a resend of it changes nothing', () => {
    const store = fresh();
    const [first] = store.applyOrders([order()]);
    const [again] = store.applyOrders([order()]);
    expect(again!.orderId).toBe(first!.orderId);
    const orders = store.listOrders();
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({
      sampleId: 'SID001',
      patientId: 'PID001',
      tests: ['GLUC', 'CREAT'],
      instrumentId: null,
      state: 'pending',
      sentAt: null,
    });
    expect(store.orderHistory(first!.orderId!).map((h) => h.kind)).toEqual([
      'received',
      'received',
    ]);
  });

  it('adds tests ordered later for the same sample, replaces them on change, removes them on cancel', () => {
    const store = fresh();
    store.applyOrders([order({ tests: ['GLUC'] })]);
    store.applyOrders([order({ tests: ['NA'] })]);
    expect(store.listOrders()[0]!.tests).toEqual(['GLUC', 'NA']);
    store.applyOrders([order({ action: 'change', tests: ['K'] })]);
    expect(store.listOrders()[0]!.tests).toEqual(['K']);
    store.applyOrders([order({ action: 'cancel', tests: [] })]);
    expect(store.listOrders()[0]!.state).toBe('cancelled');
  });

  it('finds open orders for the instrument named and for any instrument, not for others', () => {
    const store = fresh();
    store.applyOrders([
      order({ sampleId: 'A', instrumentId: 'chem1' }),
      order({ sampleId: 'A', instrumentId: 'chem2', tests: ['HB'] }),
      order({ sampleId: 'A', instrumentId: null, tests: ['NA'] }),
    ]);
    expect(store.openOrdersFor('A', 'chem1').map((o) => o.tests)).toEqual([
      ['GLUC', 'CREAT'],
      ['NA'],
    ]);
    expect(store.ordersToPush('chem1').map((o) => o.instrumentId)).toEqual(['chem1']);
    expect(store.pendingOrderCounts()).toEqual({ chem1: 1, chem2: 1, '': 1 });
  });

  it('moves an order to resulted once every test has a result, partially before', () => {
    const store = fresh();
    const [o] = store.applyOrders([order()]);
    const id = o!.orderId!;
    store.markOrdersSent([id], 'chem1', 7);
    expect(store.getOrder(id)!.state).toBe('sent');
    const partial = store.trackResults('chem1', 8, [{ sampleId: 'SID001', lisCode: 'GLUC' }]);
    expect(partial).toEqual({ resulted: [], partial: [id], unsolicited: [] });
    expect(store.getOrder(id)).toMatchObject({ state: 'sent', resultedTests: ['GLUC'] });
    const done = store.trackResults('chem1', 9, [
      { sampleId: 'SID001', lisCode: 'CREAT' },
      { sampleId: 'OTHER', lisCode: 'GLUC' },
    ]);
    expect(done).toEqual({ resulted: [id], partial: [], unsolicited: ['OTHER'] });
    expect(store.getOrder(id)).toMatchObject({ state: 'resulted' });
    expect(store.getOrder(id)!.resultedAt).not.toBeNull();
    expect(store.ordersResultedBy(9).map((x) => x.id)).toEqual([id]);
    expect(store.orderHistory(id).map((h) => [h.kind, h.messageId])).toEqual([
      ['received', null],
      ['sent', 7],
      ['result', 8],
      ['resulted', 9],
    ]);
  });

  it('expires open orders older than the cut-off, and only those', () => {
    const store = fresh();
    store.applyOrders([order({ sampleId: 'OLD' })]);
    now += 8 * DAY;
    store.applyOrders([order({ sampleId: 'NEW' })]);
    expect(store.expireOrders(now - 7 * DAY, 100)).toBe(1);
    expect(store.listOrders({ sampleId: 'OLD' })[0]!.state).toBe('cancelled');
    expect(store.listOrders({ sampleId: 'NEW' })[0]!.state).toBe('pending');
    const old = store.listOrders({ sampleId: 'OLD' })[0]!;
    expect(store.orderHistory(old.id).at(-1)!.kind).toBe('expired');
  });

  it('filters the list by sample, state and instrument', () => {
    const store = fresh();
    store.applyOrders([order({ sampleId: 'A' }), order({ sampleId: 'B', instrumentId: 'x' })]);
    expect(store.listOrders({ sampleId: 'a' }).map((o) => o.sampleId)).toEqual(['A']);
    expect(store.listOrders({ instrumentId: 'x' }).map((o) => o.sampleId)).toEqual(['B']);
    expect(store.listOrders({ state: 'resulted' })).toEqual([]);
  });
});
