/**
 * Storage failing while traffic flows. Two ways of making it fail:
 * - the store's fault hook, which throws before a commit as a full disk would (in-process, so the
 *   instrument status can be read at any moment);
 * - a real one: `serve` runs under a file size limit (RLIMIT_FSIZE, via prlimit), so SQLite's
 *   writes fail with EFBIG once the database reaches it, exactly as on a full disk; lifting the
 *   limit is storage coming back. (Making the file read-only with chmod does not work: the
 *   gateway keeps its open handle, and the tests may run as root, who ignores permissions.)
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NAK } from '../../src-main/protocols/astm/control';
import { runSimulator } from '../../src-main/simulator/simulator';
import { openStore, type Store, storeTestHooks } from '../../src-main/store/store';
import { freePort } from '../support/ports';
import { tempDir } from '../support/temp';
import { astmFrames, sendAstmSession, sendHl7 } from './support/analyzers';
import { acceleratedClock } from './support/clocks';
import { GatewayHarness } from './support/gateway-harness';
import { ServeProcess, type LogRecord } from './support/serve-process';
import { AckReader, LOOPBACK, RawPeer, eventually, sleep } from './support/wire';

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** How many times each HL7 control ID and each ASTM sample ID is stored (complete messages). */
function storedCounts(store: Store): Map<string, number> {
  const counts = new Map<string, number>();
  const bump = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
  for (const message of store.messagesForCli({})) {
    if (message.direction !== 'in' || message.status === 'incomplete') continue;
    if (message.protocol === 'hl7' && message.controlId) bump(`hl7:${message.controlId}`);
    if (message.protocol === 'astm') for (const id of message.sampleIds) bump(`astm:${id}`);
  }
  return counts;
}

function checkStored(
  counts: Map<string, number>,
  acked: { hl7: Set<string>; astm: Set<string> },
  refusedHl7: Iterable<string>,
) {
  const missing = [
    ...[...acked.hl7].filter((id) => counts.get(`hl7:${id}`) !== 1).map((id) => `hl7:${id}`),
    ...[...acked.astm].filter((id) => counts.get(`astm:${id}`) !== 1).map((id) => `astm:${id}`),
  ];
  const storedAnyway = [...refusedHl7].filter((id) => counts.has(`hl7:${id}`));
  return { missing, storedAnyway };
}

const diskFull = () => {
  throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
};

describe('storage failing while traffic flows', () => {
  it('fault hook: nothing unstored is acknowledged (HL7 AR with ERR, ASTM NAK), the status says so, and traffic resumes by itself', async () => {
    const [hl7Port, astmPort] = [await freePort(), await freePort()];
    const harness = new GatewayHarness({
      instruments: [
        { id: 'h', protocol: 'hl7', mode: 'server', port: hl7Port, maxConnections: 2 },
        { id: 'a', protocol: 'astm', mode: 'server', port: astmPort, maxConnections: 2 },
      ],
    });
    cleanups.push(() => harness.dispose());
    await harness.waitFor(['h', 'a'], 'listening');
    const { gateway, store, tap } = harness;
    const sent = new Set<string>();
    const acked = { hl7: new Set<string>(), astm: new Set<string>() };
    const storageLines: string[] = [];
    tap.watch((entry) => {
      if (entry.kind === 'storage') storageLines.push(`${entry.instrumentId}: ${entry.message}`);
    });

    const hl7Traffic = runSimulator({
      protocol: 'hl7',
      target: { connect: { host: LOOPBACK, port: hl7Port } },
      messages: 400,
      results: 3,
      intervalMs: 3,
      ackTimeoutMs: 10_000,
      runId: 'FH',
      onMessage: (id) => sent.add(id),
      onAcked: (id) => acked.hl7.add(id),
    });
    // The analyzer's E1381 timers run 20 times faster: its 15 s pause after a refused message
    // takes 0.75 s, so the test sees it try again.
    const astmTraffic = runSimulator({
      protocol: 'astm',
      target: { connect: { host: LOOPBACK, port: astmPort } },
      messages: 30,
      results: 3,
      intervalMs: 10,
      ackTimeoutMs: 60_000,
      clock: acceleratedClock(20),
      runId: 'FA',
      onAcked: (id) => acked.astm.add(id),
    });
    const flowing = await eventually(() => acked.hl7.size >= 30 && acked.astm.size >= 2, 10_000);
    expect(
      flowing,
      `acknowledged before the fault: ${acked.hl7.size} HL7, ${acked.astm.size} ASTM`,
    ).toBe(true);

    storeTestHooks(store).setFaultInjector(diskFull);
    const atFault = { hl7: acked.hl7.size, astm: acked.astm.size };
    expect(
      await eventually(
        () => !!gateway.status('h')?.storageFailing && !!gateway.status('a')?.storageFailing,
        5_000,
      ),
    ).toBe(true);
    // An HL7 message now: AR with an ERR segment that says why.
    const reader = await AckReader.connect(hl7Port);
    const refusal = await sendHl7(reader, 'DURING-FAULT', 5_000);
    reader.peer.destroy();
    expect(refusal).toMatchObject({ code: 'AR', controlId: 'DURING-FAULT', hasErr: true });
    expect(refusal!.text).toMatch(
      /MSA\|AR\|DURING-FAULT\|not stored, please resend: .*the disk is full/,
    );
    expect(refusal!.text).toMatch(/ERR\|\|\|207\^not stored, please resend/);
    // An ASTM session now: every frame ACKed but the one completing the message, NAKed.
    const peer = await RawPeer.connect(astmPort);
    const frames = astmFrames('DURINGFAULT');
    const outcome = await sendAstmSession(peer, frames, 5_000);
    peer.destroy();
    expect(outcome).toEqual({ kind: 'refused', at: frames.length - 1, reply: NAK });
    await sleep(300);
    // At most the message whose commit was already under way when storage failed.
    expect(acked.hl7.size - atFault.hl7).toBeLessThanOrEqual(1);
    expect(acked.astm.size - atFault.astm).toBeLessThanOrEqual(1);
    const failedLine = (id: string, answer: string) =>
      new RegExp(`^${id}: not acknowledging: storage failed \\(.*the disk is full\\); ${answer}$`);
    expect(
      storageLines.some((line) => failedLine('h', 'the sender was answered AR').test(line)),
    ).toBe(true);
    expect(
      storageLines.some((line) =>
        failedLine('a', 'the frame completing the message was answered NAK').test(line),
      ),
    ).toBe(true);
    expect(gateway.status('h')?.lastError).toMatchObject({ code: 'STORE_FULL' });

    storeTestHooks(store).setFaultInjector(null);
    const atRecovery = { hl7: acked.hl7.size, astm: acked.astm.size };
    const resumed = await eventually(
      () => acked.hl7.size >= atRecovery.hl7 + 10 && acked.astm.size > atRecovery.astm,
      10_000,
    );
    expect(
      resumed,
      `after storage came back: ${acked.hl7.size - atRecovery.hl7} HL7 and ${acked.astm.size - atRecovery.astm} ASTM acknowledged`,
    ).toBe(true);
    expect(gateway.status('h')?.storageFailing).toBe(false);
    expect(gateway.status('a')?.storageFailing).toBe(false);
    expect(storageLines).toContain('h: storage works again; acknowledging as usual');
    expect(storageLines).toContain('a: storage works again; acknowledging as usual');

    const [hl7Summary, astmSummary] = await Promise.all([hl7Traffic, astmTraffic]);
    expect(hl7Summary.rejected).toBeGreaterThan(0);
    expect(hl7Summary.errors[0]).toContain('rejected AR');
    expect(hl7Summary.failed).toBe(0);
    expect(astmSummary).toMatchObject({ acked: 30, failed: 0 });

    const refused = [...sent].filter((id) => !acked.hl7.has(id));
    expect(refused.length).toBe(hl7Summary.rejected);
    const { missing, storedAnyway } = checkStored(storedCounts(store), acked, [
      ...refused,
      'DURING-FAULT',
    ]);
    expect(missing, 'acknowledged but not stored exactly once').toEqual([]);
    expect(storedAnyway, 'answered AR but stored').toEqual([]);
  });

  it('a real full disk: serve under a file size limit refuses what it cannot store, and resumes once the limit is lifted', async () => {
    const temp = tempDir('labgw-fsize-');
    cleanups.push(() => temp.remove());
    const [hl7Port, astmPort] = [await freePort(), await freePort()];
    const configFile = path.join(temp.dir, 'gateway.json');
    const dbFile = path.join(temp.dir, 'gateway.sqlite');
    writeFileSync(
      configFile,
      JSON.stringify({
        instruments: [
          { id: 'h', protocol: 'hl7', mode: 'server', port: hl7Port, maxConnections: 2 },
          { id: 'a', protocol: 'astm', mode: 'server', port: astmPort },
        ],
      }),
    );
    const limit = 3 * 1_048_576;
    const serve = await ServeProcess.start({
      configFile,
      dbFile,
      listeners: 2,
      wrapper: ['prlimit', `--fsize=${limit}:`, '--'],
    });
    cleanups.push(() => serve.kill('SIGKILL'));
    const failures: LogRecord[] = [];
    const recoveries: LogRecord[] = [];
    serve.watch((record) => {
      const message = String(record.message ?? '');
      if (message.startsWith('not acknowledging: storage failed')) failures.push(record);
      if (message.startsWith('storage works again')) recoveries.push(record);
    });

    const sent = new Set<string>();
    const acked = { hl7: new Set<string>(), astm: new Set<string>() };
    const hl7Traffic = runSimulator({
      protocol: 'hl7',
      target: { connect: { host: LOOPBACK, port: hl7Port } },
      messages: 400,
      results: 10,
      concurrency: 2,
      ackTimeoutMs: 10_000,
      runId: 'DF',
      onMessage: (id) => sent.add(id),
      onAcked: (id) => acked.hl7.add(id),
    });
    const astmTraffic = runSimulator({
      protocol: 'astm',
      target: { connect: { host: LOOPBACK, port: astmPort } },
      messages: 40,
      results: 5,
      intervalMs: 20,
      ackTimeoutMs: 60_000,
      clock: acceleratedClock(20),
      runId: 'DA',
      onAcked: (id) => acked.astm.add(id),
    });

    const full = await eventually(() => failures.length >= 10, 30_000);
    expect(full, `no storage failure before the limit: ${serve.tail.join('\n')}`).toBe(true);
    const codes = new Set(failures.map((record) => String(record.code)));
    const ackedWhileFull = acked.hl7.size;
    await sleep(200);
    expect(acked.hl7.size - ackedWhileFull).toBeLessThanOrEqual(2);

    execFileSync('prlimit', ['--pid', String(serve.pid), '--fsize=unlimited:unlimited']);
    const resumed = await eventually(
      () => acked.hl7.size >= ackedWhileFull + 20 && recoveries.length > 0,
      20_000,
    );
    expect(resumed, `traffic did not resume: ${serve.tail.join('\n')}`).toBe(true);
    const [hl7Summary, astmSummary] = await Promise.all([hl7Traffic, astmTraffic]);
    expect(await serve.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(hl7Summary.rejected).toBeGreaterThan(0);
    expect(hl7Summary.failed).toBe(0);
    expect(astmSummary.failed).toBe(0);
    expect(astmSummary.acked).toBe(40);

    const store = openStore({ file: dbFile, readonly: true });
    const counts = storedCounts(store);
    store.close();
    const refused = [...sent].filter((id) => !acked.hl7.has(id));
    const { missing, storedAnyway } = checkStored(counts, acked, refused);
    expect(missing, 'acknowledged but not stored exactly once').toEqual([]);
    expect(storedAnyway, 'answered AR but stored').toEqual([]);
    console.log(
      `full disk (RLIMIT_FSIZE ${limit} bytes): ${failures.length} storage failures logged ` +
        `(${[...codes].join(', ')}) from the ${ackedWhileFull}th HL7 message on, ` +
        `${hl7Summary.rejected} HL7 messages answered AR, ` +
        `${acked.hl7.size} HL7 and ${acked.astm.size} ASTM acknowledged, all stored once`,
    );
  });
});
