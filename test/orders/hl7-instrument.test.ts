/**
 * HL7 analyzers end to end over loopback (IHE LAW): a LIS sends ORM over MLLP; the analyzer asks
 * with QBP^Q11, gets RSP^K11 then its work order as OML^O33 in its own codes, answers ORL^O34,
 * sends OUL^R22 and the order is resulted. With `orders.download: push` the orders go out as they
 * arrive (OML^O33 or ORM^O01 per setting), cancellations as ORC-1 CA.
 */
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseGatewayConfig, type InstrumentConfigInput } from '../../src-shared/config';
import { createGatewayRuntime } from '../../src-main/app';
import { frameMllp } from '../../src-main/protocols/hl7/mllp';
import { freePort, waitFor } from '../support/ports';
import { tempDir } from '../support/temp';
import { Hl7Analyzer, field } from './support/hl7-analyzer';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(orders: InstrumentConfigInput['orders'] = {}) {
  const temp = tempDir();
  const [lisPort, port] = [await freePort(), await freePort()];
  const parsed = parseGatewayConfig({
    orderSources: [{ id: 'lis-orders', type: 'hl7', port: lisPort }],
    instruments: [
      {
        id: 'immuno1',
        protocol: 'hl7',
        mode: 'server',
        port,
        testCodes: { TSH3: 'TSH', FT4: 'FT4L' },
        orders,
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
  await waitFor(() => runtime.gateway.status('immuno1')!.state === 'listening', 'the link');
  const socket = net.connect(lisPort, '127.0.0.1');
  cleanups.push(() => void socket.destroy());
  let acks = '';
  socket.on('data', (chunk: Buffer) => (acks += chunk.toString('latin1')));
  let seq = 0;
  const order = async (receiver: string, sample: string, tests: string[], control = 'NW') => {
    const id = `O${++seq}`;
    const text = [
      `MSH|^~\\&|LIS|HOSP|${receiver}|LAB|20261126100000||ORM^O01|${id}|P|2.5.1`,
      `PID|1||P-${sample}||DOE^JANE`,
      ...tests.flatMap((t, i) => [`ORC|${control}`, `OBR|${i + 1}||${sample}|${t}`]),
      '',
    ].join('\r');
    socket.write(frameMllp(Buffer.from(text, 'latin1')));
    await waitFor(() => acks.includes(`MSA|AA|${id}`), `the ACK of ${id}`);
  };
  const connect = async () => {
    const analyzer = await Hl7Analyzer.connect(port);
    cleanups.push(() => analyzer.close());
    return analyzer;
  };
  return { runtime, order, connect };
}

/** OBR-4 of every OBR, ORC-1 of every ORC, and the specimen of a received order message. */
function tests(message: { segments: string[][] }) {
  return message.segments.filter((s) => s[0] === 'OBR').map((s) => s[4]);
}
function controls(message: { segments: string[][] }) {
  return message.segments.filter((s) => s[0] === 'ORC').map((s) => s[1]);
}

describe('HL7 analyzers: work orders by query (LAB-27/28) and by push', () => {
  it('QBP^Q11 → RSP^K11 → OML^O33 in its codes → ORL^O34 → OUL^R22 → resulted', async () => {
    const { runtime, order, connect } = await start();
    await order('LAB', 'SID7', ['TSH', 'FT4L']);
    const analyzer = await connect();

    const rsp = await analyzer.query('SID7');
    expect(rsp.type).toBe('RSP^K11');
    expect(field(rsp, 'MSA', 1)).toBe('AA');
    expect(field(rsp, 'QAK', 1)).toBe('TAG1');
    expect(field(rsp, 'QAK', 2)).toBe('OK');
    expect(field(rsp, 'QPD', 3)).toBe('SID7');

    await waitFor(() => analyzer.orders.length === 1, 'the work order');
    const oml = analyzer.orders[0]!;
    expect(oml.type).toBe('OML^O33');
    // The RSP came first, then the order.
    expect(analyzer.received.indexOf(rsp)).toBeLessThan(analyzer.received.indexOf(oml));
    expect(field(oml, 'SPM', 2)).toBe('SID7');
    expect(field(oml, 'PID', 3)).toBe('P-SID7');
    expect(field(oml, 'PID', 5)).toBe('DOE^JANE');
    expect(tests(oml)).toEqual(['TSH3', 'FT4']);
    expect(controls(oml)).toEqual(['NW', 'NW']);
    await waitFor(() => runtime.store.listOrders()[0]!.state === 'sent', 'the order to be sent');
    const history = runtime.store.orderHistory(runtime.store.listOrders()[0]!.id);
    expect(history.at(-1)).toMatchObject({ kind: 'sent', instrumentId: 'immuno1' });

    const ack = await analyzer.results('SID7', [
      ['TSH3', '1.2'],
      ['FT4', '14'],
    ]);
    expect(ack.type).toBe('ACK^R22');
    expect(field(ack, 'MSA', 1)).toBe('AA');
    await waitFor(() => runtime.store.listOrders()[0]!.state === 'resulted', 'resulted');
    expect(runtime.store.listOrders()[0]!.resultedTests).toEqual(['TSH', 'FT4L']);

    // The outgoing OML is in the history, delivered, with the analyzer's answer.
    const out = runtime.store.queryMessages({ instrumentId: 'immuno1' }).items;
    expect(out.some((m) => m.direction === 'out' && m.status === 'sent' && m.ack === 'AA')).toBe(
      true,
    );
  });

  it('answers QAK NF for a specimen nobody ordered, and AE for a query without one', async () => {
    const { connect } = await start();
    const analyzer = await connect();
    const rsp = await analyzer.query('NOPE');
    expect(field(rsp, 'QAK', 2)).toBe('NF');
    const empty = await analyzer.query('');
    expect(empty.type).toBe('ACK^Q11');
    expect(field(empty, 'MSA', 1)).toBe('AE');
    expect(empty.text).toContain('names no specimen ID (QPD-3)');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(analyzer.orders).toEqual([]);
  });

  it('push: orders go out as they arrive (ORM^O01 by setting), cancellations as ORC-1 CA', async () => {
    const { runtime, order, connect } = await start({ download: 'push', hl7Message: 'ORM^O01' });
    await order('immuno1', 'S1', ['TSH']); // waiting before the analyzer connects
    await order('LAB', 'S9', ['TSH']); // for any instrument: only answered to queries
    const analyzer = await connect();
    await waitFor(() => analyzer.orders.length === 1, 'the waiting order');
    expect(analyzer.orders[0]!.type).toBe('ORM^O01');
    expect(field(analyzer.orders[0]!, 'OBR', 3)).toBe('S1');
    expect(tests(analyzer.orders[0]!)).toEqual(['TSH3']);

    await order('immuno1', 'S2', ['FT4L', 'TSH']);
    await waitFor(() => analyzer.orders.length === 2, 'the new order');
    expect(tests(analyzer.orders[1]!)).toEqual(['FT4', 'TSH3']);
    await waitFor(
      () => runtime.store.listOrders({ state: 'sent' }).length === 2,
      'both orders to be sent',
    );

    await order('immuno1', 'S1', ['TSH'], 'CA');
    await waitFor(() => analyzer.orders.length === 3, 'the cancellation');
    expect(controls(analyzer.orders[2]!)).toEqual(['CA']);
    expect(field(analyzer.orders[2]!, 'OBR', 3)).toBe('S1');
    const s1 = runtime.store.listOrders({ sampleId: 'S1' })[0]!;
    await waitFor(
      () => runtime.store.orderHistory(s1.id).at(-1)!.detail === 'cancellation sent to immuno1',
      'the cancellation to be recorded',
    );
    expect(runtime.store.listOrders({ sampleId: 'S9' })[0]!.state).toBe('pending');
  });

  it('push: an order the analyzer refuses stays pending, with its reason in the log', async () => {
    const { runtime, order, connect } = await start({ download: 'push' });
    const analyzer = await connect();
    analyzer.answerOrdersWith = 'AE';
    await order('immuno1', 'S1', ['TSH']);
    await waitFor(() => analyzer.orders.length === 1, 'the order');
    await waitFor(
      () =>
        runtime.store
          .listEvents({ instrumentId: 'immuno1' })
          .items.some((e) => e.code === 'ORDER_REFUSED'),
      'the refusal in the log',
    );
    const logged = runtime.store
      .listEvents({ instrumentId: 'immuno1' })
      .items.find((e) => e.code === 'ORDER_REFUSED')!;
    expect(logged.message).toContain('the test is not configured on this analyzer');
    expect(runtime.store.listOrders()[0]!.state).toBe('pending');
    // Not sent again in a loop: the next try is at the next order or connection.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(analyzer.orders).toHaveLength(1);
  });
});
