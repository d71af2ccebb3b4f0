import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../../src-shared/config';
import { createGatewayRuntime, type GatewayRuntime } from '../../src-main/app';
import { frameMllp, MllpFramer } from '../../src-main/protocols/hl7/mllp';
import { simulatedFault } from '../../src-main/store/errors';
import { storeTestHooks } from '../../src-main/store/store';
import { freePort, waitFor } from '../support/ports';
import { tempDir } from '../support/temp';

const run = promisify(execFile);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(): Promise<{ runtime: GatewayRuntime; port: number; dir: string }> {
  const temp = tempDir();
  const port = await freePort();
  const parsed = parseGatewayConfig({
    instruments: [],
    orderSources: [{ id: 'lis-orders', type: 'hl7', host: '127.0.0.1', port }],
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const runtime = createGatewayRuntime({
    config: parsed.config,
    dbFile: path.join(temp.dir, 'gw.sqlite'),
  });
  cleanups.push(() => temp.remove());
  cleanups.push(() => runtime.close());
  await waitFor(() => runtime.orderSources[0]!.status.state === 'listening', 'the order source');
  // Its status speaks of the LIS, not of an analyzer.
  expect(runtime.orderSources[0]!.status.reason).toContain('waiting for the LIS');
  return { runtime, port, dir: temp.dir };
}

/** A LIS connection: sends blocks, collects the answers in order. */
async function lis(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  const framer = new MllpFramer();
  const answers: string[] = [];
  socket.on('data', (chunk: Buffer) => {
    for (const item of framer.push(chunk)) {
      if (item.kind === 'message') answers.push(item.payload.toString('latin1'));
    }
  });
  cleanups.push(() => void socket.destroy());
  return {
    answers,
    async send(text: string): Promise<string> {
      const before = answers.length;
      socket.write(frameMllp(Buffer.from(text, 'latin1')));
      await waitFor(() => answers.length > before, 'the answer');
      return answers[before]!;
    },
  };
}

const orm = (control: string, obr: string) =>
  [
    `MSH|^~\\&|LIS|HOSP|chem1|LAB|20261126100000||ORM^O01|${control}|P|2.5.1`,
    'PID|1||PID001||DOE^JOHN',
    'ORC|NW|P1',
    obr,
    '',
  ].join('\r');

describe('an order source', () => {
  it('stores the order before answering AA, and keeps the connection through bad messages', async () => {
    const { runtime, port } = await start();
    const link = await lis(port);
    const good = await link.send(orm('C1', 'OBR|1|P1|SID001|GLUC^Glucose'));
    expect(good).toContain('MSA|AA|C1');
    expect(runtime.store.listOrders()).toMatchObject([
      { sampleId: 'SID001', patientId: 'PID001', tests: ['GLUC'], state: 'pending' },
    ]);

    const noObr = await link.send(orm('C2', 'NTE|1||no order here'));
    expect(noObr).toContain('MSA|AE|C2');
    expect(noObr).toContain('the order has no OBR segment, so no test is ordered');

    const noMsh = await link.send('PID|1||X\r');
    expect(noMsh).toMatch(/\rMSA\|AR\|\r/);
    expect(noMsh).toContain('ERR|||102^the message could not be read');

    const again = await link.send(orm('C3', 'OBR|1|P1|SID002|CREAT'));
    expect(again).toContain('MSA|AA|C3');
    expect(runtime.store.listOrders().map((o) => o.sampleId)).toEqual(['SID002', 'SID001']);
  });

  it('answers AR when the orders cannot be stored, and stores nothing of them', async () => {
    const { runtime, port } = await start();
    const link = await lis(port);
    storeTestHooks(runtime.store).setFaultInjector(() => {
      throw simulatedFault('full');
    });
    const answer = await link.send(orm('C9', 'OBR|1|P1|SID009|GLUC'));
    expect(answer).toContain('MSA|AR|C9');
    expect(answer).toContain('could not be stored');
    storeTestHooks(runtime.store).setFaultInjector(null);
    expect(runtime.store.listOrders()).toEqual([]);
  });

  it('takes an ORM from an independent MLLP client (python-hl7 mllp_send)', async () => {
    const { runtime, port, dir } = await start();
    const file = path.join(dir, 'orm.hl7');
    // mllp_send reads a stream of MLLP blocks from the file.
    writeFileSync(file, frameMllp(Buffer.from(orm('PY1', 'OBR|1|P1|SIDPY|NA^Sodium'), 'latin1')));
    const { stdout } = await run('mllp_send', [
      '--file',
      file,
      '--port',
      String(port),
      '127.0.0.1',
    ]);
    expect(stdout).toContain('MSA|AA|PY1');
    expect(runtime.store.listOrders({ sampleId: 'SIDPY' })[0]!.tests).toEqual(['NA']);
  });
});
