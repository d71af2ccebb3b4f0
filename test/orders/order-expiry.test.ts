import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../../src-shared/config';
import { createGatewayRuntime } from '../../src-main/app';
import { FakeClock } from '../support/fake-clock';
import { tempDir } from '../support/temp';

const DAY = 24 * 3600_000;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('order expiry (storage.orderExpiryDays)', () => {
  it('cancels open orders older than the configured days in its scheduled run', async () => {
    const temp = tempDir();
    cleanups.push(() => temp.remove());
    const parsed = parseGatewayConfig({ instruments: [], storage: { orderExpiryDays: 2 } });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    // The orders arrive now (the store's clock); the gateway's clock is 3 days on.
    const clock = new FakeClock(Date.now() + 3 * DAY);
    const runtime = createGatewayRuntime({
      config: parsed.config,
      dbFile: path.join(temp.dir, 'gw.sqlite'),
      clock,
    });
    cleanups.push(() => runtime.close());
    runtime.store.applyOrders([{ action: 'new', sampleId: 'OLD', tests: ['GLUC'], source: 'lis' }]);
    clock.advance(59_000);
    expect(runtime.store.listOrders()[0]!.state).toBe('pending');
    clock.advance(1_000); // the first run of the hourly job
    expect(runtime.store.listOrders()[0]!.state).toBe('cancelled');
    expect(runtime.store.orderHistory(runtime.store.listOrders()[0]!.id).at(-1)!.kind).toBe(
      'expired',
    );
  });

  it('keeps them when they are younger than the configured days', async () => {
    const temp = tempDir();
    cleanups.push(() => temp.remove());
    const parsed = parseGatewayConfig({ instruments: [], storage: { orderExpiryDays: 4 } });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    const clock = new FakeClock(Date.now() + 3 * DAY);
    const runtime = createGatewayRuntime({
      config: parsed.config,
      dbFile: path.join(temp.dir, 'gw.sqlite'),
      clock,
    });
    cleanups.push(() => runtime.close());
    runtime.store.applyOrders([{ action: 'new', sampleId: 'NEW', tests: ['GLUC'], source: 'lis' }]);
    clock.advance(60_000);
    expect(runtime.store.listOrders()[0]!.state).toBe('pending');
  });
});
