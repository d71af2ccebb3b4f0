import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../../src-shared/config';
import { createGatewayRuntime } from '../../src-main/app';
import { frameMllp } from '../../src-main/protocols/hl7/mllp';
import { freePort, waitFor } from '../support/ports';
import { tempDir } from '../support/temp';
import { TestAnalyzer } from './support/astm-analyzer';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start() {
  const temp = tempDir();
  const [lisPort, chemPort] = [await freePort(), await freePort()];
  const parsed = parseGatewayConfig({
    orderSources: [{ id: 'lis-orders', type: 'hl7', port: lisPort }],
    instruments: [
      {
        id: 'chem1',
        protocol: 'astm',
        mode: 'server',
        port: chemPort,
        testCodes: { GLU: 'GLUC' },
        orders: { download: 'push' },
      },
    ],
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const runtime = createGatewayRuntime({
    config: parsed.config,
    dbFile: path.join(temp.dir, 'gw.sqlite'),
  });
  cleanups.push(() => temp.remove());
  cleanups.push(() => runtime.close());
  await waitFor(() => runtime.gateway.status('chem1')!.state === 'listening', 'the link');
  const socket = net.connect(lisPort, '127.0.0.1');
  cleanups.push(() => void socket.destroy());
  let acks = '';
  socket.on('data', (chunk: Buffer) => (acks += chunk.toString('latin1')));
  const order = async (
    control: string,
    receiver: string,
    sample: string,
    test: string,
    action = 'NW',
  ) => {
    const text = [
      `MSH|^~\\&|LIS|HOSP|${receiver}|LAB|20261126100000||ORM^O01|${control}|P|2.5.1`,
      `PID|1||P-${sample}`,
      `ORC|${action}`,
      `OBR|1||${sample}|${test}`,
      '',
    ].join('\r');
    socket.write(frameMllp(Buffer.from(text, 'latin1')));
    await waitFor(() => acks.includes(`MSA|AA|${control}`), `the ACK of ${control}`);
  };
  return { runtime, chemPort, order };
}

describe('worklist download (orders.download: push)', () => {
  it('sends orders waiting for the instrument in one session when it connects, then each new one as it arrives', async () => {
    const { runtime, chemPort, order } = await start();
    await order('O1', 'chem1', 'S1', 'GLUC');
    await order('O2', 'chem1', 'S2', 'NA');
    await order('O3', 'LAB', 'S3', 'K'); // for any instrument: only answered to queries

    const analyzer = await TestAnalyzer.connect(chemPort);
    cleanups.push(() => analyzer.close());
    await waitFor(() => analyzer.received.length === 1, 'the download');
    const batch = analyzer.received[0]!;
    expect(batch.records.map((r) => r.type)).toEqual(['H', 'P', 'O', 'P', 'O', 'L']);
    expect(batch.text).toMatch(/\rO\|1\|S1\|\|\^\^\^GLU\|R\|{6}N\|{14}O\r/);
    expect(batch.text).toContain('O|1|S2||^^^NA|');
    expect(batch.text).not.toContain('S3');
    await waitFor(
      () => runtime.store.listOrders({ state: 'sent' }).length === 2,
      'both orders to be sent',
    );

    await order('O4', 'chem1', 'S4', 'GLUC');
    await waitFor(() => analyzer.received.length === 2, 'the second download');
    expect(analyzer.received[1]!.text).toContain('O|1|S4||^^^GLU|');
    await waitFor(
      () => runtime.store.listOrders({ sampleId: 'S4' })[0]!.state === 'sent',
      'S4 to be sent',
    );
    expect(runtime.store.listOrders({ sampleId: 'S3' })[0]!.state).toBe('pending');
    expect(
      runtime.store.orderHistory(runtime.store.listOrders({ sampleId: 'S1' })[0]!.id),
    ).toHaveLength(2);
  });

  it('tells the instrument of a cancelled order it was sent (O-12 C), once', async () => {
    const { runtime, chemPort, order } = await start();
    const analyzer = await TestAnalyzer.connect(chemPort);
    cleanups.push(() => analyzer.close());
    await order('O1', 'chem1', 'S1', 'GLUC');
    await waitFor(() => analyzer.received.length === 1, 'the download');
    await waitFor(() => runtime.store.listOrders()[0]!.state === 'sent', 'S1 to be sent');

    await order('O2', 'chem1', 'S1', 'GLUC', 'CA');
    await waitFor(() => analyzer.received.length === 2, 'the cancellation');
    expect(analyzer.received[1]!.text).toMatch(/\rO\|1\|S1\|\|\^\^\^GLU\|R\|{6}C\|{14}O\r/);
    const id = runtime.store.listOrders()[0]!.id;
    await waitFor(
      () => runtime.store.orderHistory(id).at(-1)!.detail === 'cancellation sent to chem1',
      'the cancellation to be recorded',
    );
    expect(runtime.store.listOrders()[0]!.state).toBe('cancelled');

    // The next download does not repeat the cancellation.
    await order('O3', 'chem1', 'S2', 'GLUC');
    await waitFor(() => analyzer.received.length === 3, 'the next download');
    expect(analyzer.received[2]!.text).not.toContain('S1');
  });
});
