/**
 * An acknowledged order is never lost: `serve` runs as its own process, a LIS sends orders one
 * after another, the process is killed with SIGKILL in the middle of the stream, again on the
 * same database; every order the LIS saw answered AA must be in the database afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { frameMllp, MllpFramer } from '../../src-main/protocols/hl7/mllp';
import { openStore } from '../../src-main/store/store';
import { freePort, waitFor } from '../support/ports';
import { tempDir } from '../support/temp';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(root, 'src-main/headless/main.ts');
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

function serve(configFile: string, dbFile: string): ChildProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', cli, 'serve', '--config', configFile, '--db', dbFile, '--log', 'json'],
    { cwd: root, stdio: ['ignore', 'ignore', 'ignore'] },
  );
  children.push(child);
  return child;
}

async function connect(port: number): Promise<net.Socket> {
  for (;;) {
    const socket = net.connect(port, '127.0.0.1');
    const ok = await new Promise<boolean>((resolve) => {
      socket.once('connect', () => resolve(true));
      socket.once('error', () => resolve(false));
    });
    if (ok) return socket;
    socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const orm = (n: number) =>
  [
    `MSH|^~\\&|LIS|HOSP|LAB|LAB|20261126100000||ORM^O01|K${n}|P|2.5.1`,
    `PID|1||P${n}`,
    'ORC|NW',
    `OBR|1||KS${n}|GLUC`,
    '',
  ].join('\r');

describe('orders and kill -9', () => {
  it('keeps every order that was answered AA', async () => {
    const temp = tempDir('labgw-orders-kill9-');
    try {
      const port = await freePort();
      const configFile = path.join(temp.dir, 'gateway.json');
      const dbFile = path.join(temp.dir, 'gateway.sqlite');
      writeFileSync(
        configFile,
        JSON.stringify({
          instruments: [],
          orderSources: [{ id: 'lis', type: 'hl7', host: '127.0.0.1', port }],
        }),
      );
      const acked = new Set<string>();
      let next = 0;
      for (let cycle = 0; cycle < 3; cycle++) {
        const child = serve(configFile, dbFile);
        const socket = await connect(port);
        const framer = new MllpFramer();
        let sentUpTo = next;
        socket.on('data', (chunk: Buffer) => {
          for (const item of framer.push(chunk)) {
            if (item.kind !== 'message') continue;
            const match = /MSA\|AA\|(K\d+)/.exec(item.payload.toString('latin1'));
            if (match) acked.add(match[1]!);
          }
        });
        socket.on('error', () => undefined);
        // Orders go out one after another, each as soon as the previous was answered.
        const ackedBefore = acked.size;
        const send = () => {
          if (socket.destroyed) return;
          socket.write(frameMllp(Buffer.from(orm(sentUpTo++), 'latin1')));
        };
        socket.on('data', send);
        send();
        const killAfter = 20 + cycle * 15;
        await waitFor(() => acked.size - ackedBefore >= killAfter, 'some acknowledged orders');
        child.kill('SIGKILL');
        await new Promise((resolve) => child.once('exit', resolve));
        socket.destroy();
        next = sentUpTo;
      }
      const store = openStore({ file: dbFile });
      try {
        const stored = new Set(store.listOrders({ limit: 100_000 }).map((o) => o.sampleId));
        const lost = [...acked].map((k) => `KS${k.slice(1)}`).filter((s) => !stored.has(s));
        expect(acked.size).toBeGreaterThanOrEqual(20 + 35 + 50);
        expect(lost).toEqual([]);
      } finally {
        store.close();
      }
    } finally {
      temp.remove();
    }
  }, 120_000);
});
