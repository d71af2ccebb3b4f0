/**
 * Results reach the LIS through the real program: `serve` as its own process, simulated
 * analyzers of both protocols, python-hl7's MLLP server as a slow LIS. End to end field by field;
 * then kill -9 of `serve` at a random moment while it forwards, a restart on the same database,
 * and every acknowledged message must reach the LIS at least once, a duplicate always with the
 * control ID of its first delivery.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parseHl7 } from '../../src-main/protocols/hl7/message';
import type { SimulatedSample } from '../../src-main/simulator/content';
import { runSimulator } from '../../src-main/simulator/simulator';
import { openStore } from '../../src-main/store/store';
import { cli as runCli } from '../support/cli';
import { freePort, waitFor } from '../support/ports';
import { tempDir } from '../support/temp';
import { startMllpLis, type MllpLis } from './peers';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const main = path.join(root, 'src-main/headless/main.ts');

const children: ChildProcess[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function serve(configFile: string, dbFile: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', main, 'serve', '--config', configFile, '--db', dbFile, '--log', 'json'],
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
      for (const line of text.split('\n')) if (line.includes('"state":"listening"')) seen++;
      if (seen >= 2) {
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

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

async function setup(lis: MllpLis) {
  const temp = tempDir();
  cleanups.push(() => temp.remove());
  const [hl7Port, astmPort] = [await freePort(), await freePort()];
  const configFile = path.join(temp.dir, 'gateway.json');
  const dbFile = path.join(temp.dir, 'gateway.sqlite');
  const forwardTo = ['lis'];
  writeFileSync(
    configFile,
    JSON.stringify({
      instruments: [
        {
          id: 'hema1',
          protocol: 'hl7',
          mode: 'server',
          port: hl7Port,
          maxConnections: 4,
          forwardTo,
        },
        {
          id: 'chem1',
          protocol: 'astm',
          mode: 'server',
          port: astmPort,
          forwardTo,
          testCodes: { GLU: { code: 'GLUC', name: 'Glucose' }, NA: 'SOD' },
        },
      ],
      destinations: [
        {
          id: 'lis',
          type: 'hl7',
          host: '127.0.0.1',
          port: lis.port,
          retry: { initialDelayMs: 50, maxDelayMs: 500 },
          reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
        },
      ],
    }),
  );
  return { configFile, dbFile, hl7Port, astmPort };
}

const LIS_CODES: Record<string, string> = { GLU: 'GLUC', NA: 'SOD' };

describe('serve forwards to an MLLP LIS', () => {
  it('both analyzer protocols end to end, field by field; hold and release from the command line', async () => {
    const lis = await startMllpLis();
    cleanups.push(() => lis.stop());
    const { configFile, dbFile, hl7Port, astmPort } = await setup(lis);
    const gateway = await serve(configFile, dbFile);
    const samples = new Map<string, { sample: SimulatedSample; instrument: string }>();
    for (const [protocol, port, instrument] of [
      ['hl7', hl7Port, 'hema1'],
      ['astm', astmPort, 'chem1'],
    ] as const) {
      const summary = await runSimulator({
        protocol,
        target: { connect: { host: '127.0.0.1', port } },
        messages: 3,
        results: 3,
        runId: protocol,
        onMessage: (_id, sample) => samples.set(sample.sampleId, { sample, instrument }),
      });
      expect(summary.acked).toBe(3);
    }
    await waitFor(() => lis.received.length === 6, 'six messages at the LIS', 20_000);
    for (const got of lis.received) {
      const oru = parseHl7(got.text);
      const sampleId = oru.get('OBR', 3);
      const { sample, instrument } = samples.get(sampleId)!;
      expect(oru.get('MSH', 4)).toBe(instrument);
      expect(oru.msh.controlId).toBe(got.controlId);
      expect(oru.get('PID', 3)).toBe(sample.patientId);
      expect(oru.get('SPM', 2)).toBe(sample.sampleId);
      const obx = oru.segmentsNamed('OBX');
      expect(obx.map((o) => o.value(3))).toEqual(
        sample.results.map((r) =>
          instrument === 'chem1' ? (LIS_CODES[r.code] ?? r.code) : r.code,
        ),
      );
      expect(obx.map((o) => o.value(5))).toEqual(sample.results.map((r) => r.value));
      expect(obx.map((o) => o.value(6))).toEqual(sample.results.map((r) => r.units));
      expect(obx.map((o) => o.value(8))).toEqual(sample.results.map((r) => r.flag));
      expect(obx.map((o) => o.value(11))).toEqual(sample.results.map(() => 'F'));
      expect(obx.map((o) => o.value(14))).toEqual(sample.results.map(() => sample.observedAt));
      expect(obx.map((o) => o.value(18))).toEqual(sample.results.map(() => instrument));
      if (instrument === 'chem1') expect(obx[0]!.value(3, 2)).toBe('Glucose');
    }

    // Hold from the command line: the running gateway follows within 2 s.
    expect((await runCli(['hold', '--db', dbFile, '--destination', 'lis'])).code).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await runSimulator({
      protocol: 'hl7',
      target: { connect: { host: '127.0.0.1', port: hl7Port } },
      messages: 2,
      results: 1,
      runId: 'held',
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(lis.received).toHaveLength(6);
    const held = await runCli(['outbox', '--db', dbFile, '--state', 'held', '--json']);
    expect(held.lines).toHaveLength(2);
    expect((await runCli(['release', '--db', dbFile, '--destination', 'lis'])).code).toBe(0);
    await waitFor(() => lis.received.length === 8, 'the held messages after release', 5_000);
    gateway.kill('SIGTERM');
    await exited(gateway);
    const delivered = await runCli(['outbox', '--db', dbFile, '--state', 'delivered', '--json']);
    expect(delivered.lines.map((l) => (JSON.parse(l) as { controlId: string }).controlId)).toEqual(
      lis.received.map((m) => m.controlId),
    );
  }, 90_000);

  it('kill -9 while forwarding to a slow LIS: every acknowledged message delivered at least once, duplicates with the same control ID', async () => {
    const lis = await startMllpLis({ delayMs: 15 });
    cleanups.push(() => lis.stop());
    const { configFile, dbFile, hl7Port, astmPort } = await setup(lis);
    const gateway = await serve(configFile, dbFile);
    const seed = Date.now();
    const acked = new Set<string>();
    const sampleOf = new Map<string, string>();
    const hl7 = runSimulator({
      protocol: 'hl7',
      target: { connect: { host: '127.0.0.1', port: hl7Port } },
      messages: 300,
      results: 2,
      concurrency: 2,
      ackTimeoutMs: 10_000,
      runId: 'k9h',
      onMessage: (id, sample) => sampleOf.set(`hl7:${id}`, sample.sampleId),
      onAcked: (id) => acked.add(sampleOf.get(`hl7:${id}`)!),
    });
    const astm = runSimulator({
      protocol: 'astm',
      target: { connect: { host: '127.0.0.1', port: astmPort } },
      messages: 60,
      results: 2,
      ackTimeoutMs: 10_000,
      runId: 'k9a',
      onAcked: (id) => acked.add(id),
    });
    // A random moment while the LIS is behind.
    const killAfter = 20 + (seed % 60);
    await waitFor(() => lis.received.length >= killAfter, 'forwarding under way', 30_000);
    gateway.kill('SIGKILL');
    await exited(gateway);
    await Promise.all([hl7, astm]);
    const again = await serve(configFile, dbFile);
    await waitFor(
      () => {
        const at = new Set(lis.received.map((m) => parseHl7(m.text).get('OBR', 3)));
        return [...acked].every((sample) => at.has(sample));
      },
      `seed ${seed}: every acknowledged message at the LIS`,
      60_000,
      50,
    );
    // Messages stored but not acknowledged when the gateway died (their analyzer gave up on
    // them) are forwarded too; wait for those as well before stopping it.
    await waitFor(
      () => {
        const reader = openStore({ file: dbFile, readonly: true });
        try {
          return reader.listOutbox({ limit: 100_000 }).every((e) => e.state === 'delivered');
        } finally {
          reader.close();
        }
      },
      `seed ${seed}: every outbox entry delivered`,
      60_000,
      100,
    );
    again.kill('SIGTERM');
    await exited(again);
    const controlIds = new Map<string, Set<string>>();
    for (const message of lis.received) {
      const sample = parseHl7(message.text).get('OBR', 3);
      const set = controlIds.get(sample) ?? new Set<string>();
      set.add(message.controlId);
      controlIds.set(sample, set);
    }
    const duplicates = lis.received.length - controlIds.size;
    expect(
      [...controlIds].filter(([, ids]) => ids.size > 1),
      `seed ${seed}: a sample sent under two control IDs`,
    ).toEqual([]);
    const store = openStore({ file: dbFile, readonly: true });
    const entries = store.listOutbox({ limit: 100_000 });
    store.close();
    expect(entries.filter((e) => e.state !== 'delivered')).toEqual([]);
    console.log(
      `kill -9 while forwarding (seed ${seed}): ${acked.size} acknowledged, ${lis.received.length} received by the LIS, ${duplicates} duplicates (same control ID)`,
    );
  }, 120_000);
});
