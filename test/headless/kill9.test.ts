/**
 * Persist before acknowledge, proven the hard way: the gateway runs as its own process, analyzers
 * send, the process is killed with SIGKILL at a random moment, restarted on the same database,
 * and every message an analyzer saw acknowledged must be stored exactly once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runSimulator } from '../../src-main/simulator/simulator';
import { openStore } from '../../src-main/store/store';
import { freePort } from '../support/ports';
import { tempDir } from '../support/temp';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(root, 'src-main/headless/main.ts');

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/** Starts `serve` and resolves once every server link listens. */
function serve(configFile: string, dbFile: string, listeners: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', cli, 'serve', '--config', configFile, '--db', dbFile, '--log', 'json'],
    { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    let seen = 0;
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${buffered}`)), 30_000);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      buffered = (buffered + text).slice(-4000);
      for (const line of text.split('\n')) {
        if (line.includes('"state":"listening"')) seen++;
      }
      if (seen >= listeners) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}: ${buffered}`));
    });
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

describe('kill -9 under load', () => {
  it('loses no acknowledged message and stores none twice', async () => {
    const temp = tempDir();
    try {
      const [hl7Port, astmPort] = [await freePort(), await freePort()];
      const configFile = path.join(temp.dir, 'gateway.json');
      const dbFile = path.join(temp.dir, 'gateway.sqlite');
      writeFileSync(
        configFile,
        JSON.stringify({
          instruments: [
            { id: 'hl7', protocol: 'hl7', mode: 'server', port: hl7Port, maxConnections: 4 },
            { id: 'astm', protocol: 'astm', mode: 'server', port: astmPort },
          ],
        }),
      );
      const seed = Date.now();
      let state = seed % 2_147_483_647;
      const random = () => {
        state = (state * 48_271) % 2_147_483_647;
        return state / 2_147_483_647;
      };

      const gateway = await serve(configFile, dbFile, 2);
      const ackedHl7: string[] = [];
      const ackedAstm: string[] = [];
      const hl7 = runSimulator({
        protocol: 'hl7',
        target: { connect: { host: '127.0.0.1', port: hl7Port } },
        messages: 2_000,
        results: 3,
        concurrency: 4,
        ackTimeoutMs: 10_000,
        onAcked: (id) => ackedHl7.push(id),
      });
      const astm = runSimulator({
        protocol: 'astm',
        target: { connect: { host: '127.0.0.1', port: astmPort } },
        messages: 300,
        results: 5,
        ackTimeoutMs: 10_000,
        onAcked: (id) => ackedAstm.push(id),
      });
      // A random moment while both are sending.
      const killAfter = 20 + Math.floor(random() * 150);
      while (ackedHl7.length < killAfter || ackedAstm.length < killAfter / 10) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      gateway.kill('SIGKILL');
      await exited(gateway);
      const [hl7Summary, astmSummary] = await Promise.all([hl7, astm]);
      expect(hl7Summary.acked, `seed ${seed}`).toBeLessThan(2_000);
      expect(astmSummary.acked, `seed ${seed}`).toBeLessThan(300);

      // Restart on the same database; it must open, recover its log and serve again.
      const again = await serve(configFile, dbFile, 2);
      const more = await runSimulator({
        protocol: 'hl7',
        target: { connect: { host: '127.0.0.1', port: hl7Port } },
        messages: 5,
        results: 1,
        onAcked: (id) => ackedHl7.push(id),
      });
      expect(more.acked).toBe(5);
      again.kill('SIGTERM');
      expect(await exited(again)).toBe(0);

      const store = openStore({ file: dbFile, readonly: true });
      const counts = new Map<string, number>();
      const bump = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
      for (const message of store.messagesForCli({})) {
        if (message.protocol === 'hl7' && message.controlId) bump(`hl7:${message.controlId}`);
        if (message.protocol === 'astm') for (const id of message.sampleIds) bump(`astm:${id}`);
      }
      store.close();
      const missing = [
        ...ackedHl7.filter((id) => counts.get(`hl7:${id}`) !== 1).map((id) => `hl7:${id}`),
        ...ackedAstm.filter((id) => counts.get(`astm:${id}`) !== 1).map((id) => `astm:${id}`),
      ];
      expect(missing, `seed ${seed}: acknowledged but not stored exactly once`).toEqual([]);
      const duplicates = [...counts].filter(([, n]) => n > 1).map(([key]) => key);
      expect(duplicates, `seed ${seed}`).toEqual([]);
      expect(ackedHl7.length).toBeGreaterThan(killAfter - 1);
    } finally {
      temp.remove();
    }
  }, 120_000);
});
