import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DemoControl, startDemo } from '../../src-main/demo/demo';
import { Gateway } from '../../src-main/gateway/gateway';
import { openStore, type Store } from '../../src-main/store/store';
import { waitFor } from '../support/ports';
import { tempDir } from '../support/temp';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

function startGateway(): { gateway: Gateway; store: Store } {
  const temp = tempDir();
  const store = openStore({ file: path.join(temp.dir, 'demo.sqlite'), durability: 'normal' });
  const gateway = new Gateway({ store });
  cleanups.push(async () => {
    await gateway.close(1_000);
    temp.remove();
  });
  return { gateway, store };
}

function incoming(store: Store, instrumentId: string) {
  return store
    .queryMessages({ instrumentId, direction: 'in', limit: 100 })
    .items.filter((m) => m.status === 'stored');
}

/** Open TCP sockets and servers. Closed ones linger until the event loop releases them. */
function tcpHandles(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind.startsWith('TCP')).length;
}

describe('startDemo', () => {
  it('links an ASTM server and an HL7 client instrument whose analyzers keep sending', async () => {
    const { gateway, store } = startGateway();
    const before = tcpHandles();
    const demo = await startDemo(gateway, { intervalMs: 50, results: 3 });

    expect(demo.instrumentIds).toEqual(['demo-astm', 'demo-hl7']);
    const [astm, hl7] = demo.instrumentIds.map((id) => gateway.config(id)!);
    expect(astm).toMatchObject({ protocol: 'astm', mode: 'server', host: '127.0.0.1' });
    expect(hl7).toMatchObject({ protocol: 'hl7', mode: 'client', host: '127.0.0.1' });

    await waitFor(
      () => incoming(store, 'demo-astm').length >= 2 && incoming(store, 'demo-hl7').length >= 2,
      'two stored messages from each demo instrument',
    );
    const [fromAstm] = incoming(store, 'demo-astm');
    const detail = store.getMessage(fromAstm!.id)!;
    expect(detail.results).toHaveLength(3);
    expect(detail.results[0]!.sampleId).toMatch(/^A/);
    expect(gateway.status('demo-astm')!.state).toBe('connected');
    expect(gateway.status('demo-hl7')!.state).toBe('connected');

    await demo.stop();
    expect(gateway.statuses()).toEqual([]);
    // The history stays; only the instruments go.
    expect(incoming(store, 'demo-hl7').length).toBeGreaterThanOrEqual(2);
    await waitFor(() => tcpHandles() === before, 'every demo socket released', 2_000);
  });

  it('keeps sending after the user presses Reconnect on either link', async () => {
    const { gateway, store } = startGateway();
    const demo = await startDemo(gateway, { intervalMs: 50, results: 1 });
    cleanups.push(() => demo.stop());
    for (const id of demo.instrumentIds) {
      await waitFor(() => gateway.status(id)?.state === 'connected', `${id} connected`);
      const count = incoming(store, id).length;
      gateway.reconnect(id);
      await waitFor(
        () => incoming(store, id).length >= count + 2,
        `${id} sending again after a reconnect`,
      );
    }
  });

  it('uses other IDs when the demo IDs are taken', async () => {
    const { gateway } = startGateway();
    const first = await startDemo(gateway, { intervalMs: 1_000 });
    const second = await startDemo(gateway, { intervalMs: 1_000 });
    expect(second.instrumentIds).toEqual(['demo-astm-2', 'demo-hl7-2']);
    await Promise.all([first.stop(), second.stop()]);
    expect(gateway.statuses()).toEqual([]);
  });
});

describe('DemoControl', () => {
  it('starts the demo once however often it is asked', async () => {
    const { gateway } = startGateway();
    const control = new DemoControl(gateway, { intervalMs: 1_000 });
    const [a, b] = await Promise.all([control.start(), control.start()]);
    expect(a).toEqual(b);
    expect(await control.start()).toEqual(a);
    expect(gateway.statuses()).toHaveLength(2);
    await control.stop();
    expect(gateway.statuses()).toEqual([]);
    expect(control.started).toBe(false);
  });
});
