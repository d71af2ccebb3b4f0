import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../../src-shared/config';
import { createGatewayRuntime, type GatewayRuntime } from '../../src-main/app';
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
  const [lisPort, chemPort, hemaPort] = [await freePort(), await freePort(), await freePort()];
  const parsed = parseGatewayConfig({
    orderSources: [{ id: 'lis-orders', type: 'hl7', port: lisPort }],
    instruments: [
      {
        id: 'chem1',
        protocol: 'astm',
        mode: 'server',
        port: chemPort,
        testCodes: { GLU: 'GLUC', CREA: 'CREAT' },
      },
      { id: 'hema1', protocol: 'astm', mode: 'server', port: hemaPort, testCodes: { WBC: 'WBCL' } },
    ],
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const runtime: GatewayRuntime = createGatewayRuntime({
    config: parsed.config,
    dbFile: path.join(temp.dir, 'gw.sqlite'),
  });
  cleanups.push(() => temp.remove());
  cleanups.push(() => runtime.close());
  await waitFor(
    () => runtime.gateway.statuses().every((s) => s.state === 'listening'),
    'the instrument links',
  );
  return { runtime, lisPort, chemPort, hemaPort };
}

async function sendOrm(port: number, text: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  cleanups.push(() => void socket.destroy());
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
  socket.write(frameMllp(Buffer.from(text, 'latin1')));
  await waitFor(() => answer.includes('\x1c\r'), 'the ACK');
  return answer;
}

const ORM = [
  'MSH|^~\\&|LIS|HOSP|LAB|LAB|20261126100000||ORM^O01|O1|P|2.5.1',
  'PID|1||PID001||DOE^JOHN',
  'ORC|NW|P1',
  'OBR|1|P1|SID001|GLUC',
  'ORC|NW|P2',
  'OBR|2|P2|SID001|CREAT',
  'ORC|NW|P3',
  'OBR|3|P3|SID001|WBCL',
  '',
].join('\r');

describe('host queries answered with the orders from the LIS', () => {
  it('LIS order → analyzer query → exactly its tests in its codes → results → resulted', async () => {
    const { runtime, lisPort, chemPort, hemaPort } = await start();
    expect(await sendOrm(lisPort, ORM)).toContain('MSA|AA|O1');

    const analyzer = await TestAnalyzer.connect(chemPort);
    cleanups.push(() => analyzer.close());
    const answer = await analyzer.query('SID001');
    expect(answer.records.map((r) => r.type)).toEqual(['H', 'P', 'O', 'L']);
    expect(answer.text).toMatch(/\rP\|1\|PID001\|/);
    // WBCL runs on hema1; chem1 gets glucose and creatinine in its own codes, as a query answer.
    expect(answer.text).toMatch(/\rO\|1\|SID001\|\|\^\^\^GLU\\\^\^\^CREA\|R\|{6}A\|{14}Q\r/);
    expect(answer.termination).toBe('F');
    await waitFor(() => runtime.store.listOrders()[0]!.state === 'sent', 'the order to be sent');

    await analyzer.send({
      header: { sender: 'ANALYZER' },
      patients: [
        {
          patientId: 'PID001',
          orders: [
            {
              specimenId: 'SID001',
              tests: ['GLU', 'CREA'],
              reportType: 'F',
              results: [
                { test: 'GLU', value: '5.4', units: 'mmol/L' },
                { test: 'CREA', value: '80', units: 'umol/L' },
              ],
            },
          ],
        },
      ],
    });
    await waitFor(
      () => runtime.store.listOrders()[0]!.resultedTests.length === 2,
      'glucose and creatinine to be resulted',
    );
    expect(runtime.store.listOrders()[0]).toMatchObject({
      state: 'sent',
      resultedTests: ['GLUC', 'CREAT'],
    });

    // The white cell count comes from the hematology analyzer; then every test has a result.
    const hema = await TestAnalyzer.connect(hemaPort);
    cleanups.push(() => hema.close());
    await hema.send({
      header: { sender: 'HEMA' },
      patients: [
        {
          orders: [
            {
              specimenId: 'SID001',
              reportType: 'F',
              results: [{ test: 'WBC', value: '6.1' }],
            },
          ],
        },
      ],
    });
    await waitFor(
      () => runtime.store.listOrders()[0]!.state === 'resulted',
      'the order to be resulted',
    );
    expect(runtime.store.listOrders()[0]!.resultedTests).toEqual(['GLUC', 'CREAT', 'WBCL']);

    // The message that resulted it says so in its detail.
    const order = runtime.store.listOrders()[0]!;
    const resultedBy = runtime.store.orderHistory(order.id).at(-1)!.messageId!;
    const detail = await runtime.service.dispatch('getMessage', { id: resultedBy });
    expect(detail.ok && detail.value.orders).toMatchObject([
      { sampleId: 'SID001', state: 'resulted' },
    ]);
  });

  it('answers L|1|I for an unknown sample and L|1|Q for a query naming no sample', async () => {
    const { chemPort, runtime } = await start();
    const analyzer = await TestAnalyzer.connect(chemPort);
    cleanups.push(() => analyzer.close());
    const unknown = await analyzer.query('NOPE');
    expect(unknown.records.map((r) => r.type)).toEqual(['H', 'L']);
    expect(unknown.termination).toBe('I');

    const before = analyzer.received.length;
    await analyzer.send({ header: { sender: 'ANALYZER' }, queries: [{}] });
    await waitFor(() => analyzer.received.length > before, 'the answer');
    expect(analyzer.received[before]!.termination).toBe('Q');
    const logged = runtime.store.listEvents({ instrumentId: 'chem1' }).items;
    expect(logged.some((e) => e.code === 'ASTM_QUERY_UNREADABLE')).toBe(true);
  });
});
