/**
 * kill -9 under load, repeated. `serve` runs as its own process with four kinds of analyzers at
 * once: HL7 and ASTM simulators connecting to server links, and HL7 and ASTM simulators listening
 * for the gateway's client links. At a random moment the process is killed with SIGKILL and
 * started again on the same database, again and again.
 *
 * Like real analyzers, the simulators send again what was cut off: a run that lost its connection
 * is repeated byte for byte (same run ID, same seed, same clock) once the gateway is back, so
 * messages stored just before the kill arrive twice and must be recognised, not stored twice.
 * At the end every message an analyzer saw acknowledged must be stored exactly once.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Clock } from '../../../src-main/protocols/clock';
import { runSimulator } from '../../../src-main/simulator/simulator';
import { openStore } from '../../../src-main/store/store';
import { systemClock } from '../../../src-main/system-clock';
import { freePort } from '../../support/ports';
import { tempDir } from '../../support/temp';
import { FIXED_AT } from './analyzers';
import { seededRng } from './random';
import { ServeProcess } from './serve-process';
import { LOOPBACK, eventually, sleep, withDeadline } from './wire';

type StreamKind = 'hl7-server' | 'astm-server' | 'hl7-client' | 'astm-client';

interface Run {
  runId: string;
  seed: number;
  messages: number;
  /** A repeat of a run that was cut off. */
  replay: boolean;
}

interface Stream {
  name: string;
  kind: StreamKind;
  port: number;
  replays: Run[];
  fresh: number;
  sentThisCycle: number;
  ackedThisCycle: number;
}

export interface Kill9Options {
  cycles: number;
  seed: number;
  /** The kill comes this long (a random time in the range) after every analyzer has an ACK. */
  killWindowMs: [number, number];
  /** Messages per fresh simulator run; a cut-off run is repeated in full. */
  hl7RunMessages: number;
  astmRunMessages: number;
  log?: (line: string) => void;
}

export interface CycleFigures {
  /** 1 to `cycles`; the last row is the final restart that delivers what the last kill cut off. */
  cycle: number;
  startMs: number;
  killedAfterMs: number;
  sent: number;
  acked: number;
  /** Of the messages first acknowledged in this cycle: */
  stored: number;
  missing: number;
  duplicates: number;
  /** Resent messages the gateway recognised as already stored, during this cycle. */
  recognised: number;
}

export interface Kill9Result {
  seed: number;
  cycles: CycleFigures[];
  totals: {
    acked: number;
    storedOnce: number;
    missing: number;
    duplicates: number;
    recognised: number;
    storedRows: number;
  };
  missingIds: string[];
  duplicateIds: string[];
  durationMs: number;
}

/** One fixed moment for the content of every message, so repeats are byte-identical. */
const frozenClock: Clock = { now: () => FIXED_AT, schedule: systemClock.schedule };

export async function runKill9Cycles(options: Kill9Options): Promise<Kill9Result> {
  const started = performance.now();
  const log = options.log ?? (() => undefined);
  const rng = seededRng(options.seed);
  const temp = tempDir('labgw-kill9-');
  const configFile = path.join(temp.dir, 'gateway.json');
  const dbFile = path.join(temp.dir, 'gateway.sqlite');
  const kinds: [string, StreamKind][] = [
    ['hs1', 'hl7-server'],
    ['hs2', 'hl7-server'],
    ['as', 'astm-server'],
    ['hc', 'hl7-client'],
    ['ac', 'astm-client'],
  ];
  const streams: Stream[] = [];
  for (const [name, kind] of kinds) {
    streams.push({
      name,
      kind,
      port: 0,
      replays: [],
      fresh: 0,
      sentThisCycle: 0,
      ackedThisCycle: 0,
    });
  }
  const [hl7ServerPort, astmServerPort, hl7ClientPort, astmClientPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  for (const stream of streams) {
    stream.port = {
      'hl7-server': hl7ServerPort,
      'astm-server': astmServerPort,
      'hl7-client': hl7ClientPort,
      'astm-client': astmClientPort,
    }[stream.kind];
  }
  const reconnect = { initialDelayMs: 50, maxDelayMs: 200 };
  writeFileSync(
    configFile,
    JSON.stringify({
      instruments: [
        {
          id: 'hl7-server',
          protocol: 'hl7',
          mode: 'server',
          port: hl7ServerPort,
          maxConnections: 4,
        },
        // Room for a second connection: a simulator run starting while the last one's end is
        // still unread would otherwise be refused (see reconnect-storm.test.ts).
        {
          id: 'astm-server',
          protocol: 'astm',
          mode: 'server',
          port: astmServerPort,
          maxConnections: 2,
        },
        { id: 'hl7-client', protocol: 'hl7', mode: 'client', port: hl7ClientPort, reconnect },
        { id: 'astm-client', protocol: 'astm', mode: 'client', port: astmClientPort, reconnect },
      ],
    }),
  );

  const ackCycle = new Map<string, number>();
  let cycle = 0;
  let gatewayUp = false;
  let stopping = false;
  let recognisedThisCycle = 0;
  const figures: CycleFigures[] = [];

  const runOnce = async (stream: Stream, run: Run): Promise<{ sent: number; acked: number }> => {
    const protocol = stream.kind.startsWith('hl7') ? 'hl7' : 'astm';
    const target = stream.kind.endsWith('server')
      ? { connect: { host: LOOPBACK, port: stream.port } }
      : { listen: { host: LOOPBACK, port: stream.port } };
    const summary = await runSimulator({
      protocol,
      target,
      messages: run.messages,
      results: protocol === 'hl7' ? 3 : 4,
      runId: run.runId,
      random: seededRng(run.seed).next,
      clock: frozenClock,
      ackTimeoutMs: 10_000,
      onMessage: () => stream.sentThisCycle++,
      onAcked: (id) => {
        stream.ackedThisCycle++;
        if (!ackCycle.has(id)) ackCycle.set(id, cycle);
      },
    });
    return { sent: summary.sent, acked: summary.acked };
  };

  const loop = async (stream: Stream): Promise<void> => {
    for (;;) {
      if (stopping && stream.replays.length === 0) return;
      let run = stream.replays.shift();
      if (!run) {
        const runId = `${stream.name.toUpperCase()}${(stream.fresh++).toString(36).toUpperCase()}`;
        const messages = stream.kind.startsWith('hl7')
          ? options.hl7RunMessages
          : options.astmRunMessages;
        run = { runId, seed: rng.int(1, 2 ** 31), messages, replay: false };
      }
      if (stream.kind.endsWith('server')) await eventually(() => gatewayUp, 120_000);
      let outcome: { sent: number; acked: number };
      try {
        outcome = await runOnce(stream, run);
      } catch {
        // Connection refused: the gateway is down; this run has not started, try it again.
        stream.replays.unshift(run);
        await sleep(50);
        continue;
      }
      if (outcome.acked < run.messages && outcome.sent > 0) {
        // Cut off: send again everything this run sent, then carry on.
        stream.replays.unshift({ ...run, messages: outcome.sent, replay: true });
      } else if (outcome.sent === 0) {
        stream.replays.unshift(run);
        await sleep(50);
      }
    }
  };

  const startServe = async () => {
    const serve = await ServeProcess.start({ configFile, dbFile, listeners: 2 });
    serve.watch((record) => {
      if (record.code === 'DUPLICATE_MESSAGE') recognisedThisCycle++;
    });
    gatewayUp = true;
    return serve;
  };

  let serve: ServeProcess | null = null;
  const loops = streams.map((stream) => loop(stream));
  try {
    for (cycle = 1; cycle <= options.cycles; cycle++) {
      const cycleStart = performance.now();
      for (const stream of streams) {
        stream.sentThisCycle = 0;
        stream.ackedThisCycle = 0;
      }
      recognisedThisCycle = 0;
      serve = await startServe();
      const flowing = await eventually(() => streams.every((s) => s.ackedThisCycle > 0), 30_000);
      if (!flowing) {
        const idle = streams.filter((s) => s.ackedThisCycle === 0).map((s) => s.name);
        throw new Error(`cycle ${cycle}: no acknowledgement on ${idle.join(', ')}`);
      }
      const wait = rng.int(options.killWindowMs[0], options.killWindowMs[1]);
      await sleep(wait);
      gatewayUp = false;
      await serve.kill('SIGKILL');
      serve = null;
      const killedAfterMs = Math.round(performance.now() - cycleStart);
      // Let the analyzers notice the loss before the next cycle counts again.
      await sleep(100);
      figures.push({
        cycle,
        startMs: Math.round(cycleStart - started),
        killedAfterMs,
        sent: streams.reduce((sum, s) => sum + s.sentThisCycle, 0),
        acked: streams.reduce((sum, s) => sum + s.ackedThisCycle, 0),
        stored: 0,
        missing: 0,
        duplicates: 0,
        recognised: recognisedThisCycle,
      });
      log(
        `kill -9 #${cycle}: after ${killedAfterMs} ms, ${figures.at(-1)!.acked} acknowledged this cycle`,
      );
    }
    // Once more, to deliver what the last kill cut off, then a clean stop.
    cycle = options.cycles + 1;
    stopping = true;
    const finalStart = performance.now();
    for (const stream of streams) {
      stream.sentThisCycle = 0;
      stream.ackedThisCycle = 0;
    }
    recognisedThisCycle = 0;
    serve = await startServe();
    const drained = await withDeadline(
      Promise.all(loops).then(() => true),
      120_000,
      false,
    );
    if (!drained) throw new Error('the analyzers did not finish resending after the last restart');
    const stop = await serve.kill('SIGTERM');
    serve = null;
    if (stop.code !== 0) throw new Error(`serve stopped with ${stop.code ?? stop.signal}`);
    figures.push({
      cycle,
      startMs: Math.round(finalStart - started),
      killedAfterMs: 0,
      sent: streams.reduce((sum, s) => sum + s.sentThisCycle, 0),
      acked: streams.reduce((sum, s) => sum + s.ackedThisCycle, 0),
      stored: 0,
      missing: 0,
      duplicates: 0,
      recognised: recognisedThisCycle,
    });
  } finally {
    stopping = true;
    if (serve) await serve.kill('SIGKILL');
  }

  const counts = new Map<string, number>();
  let storedRows = 0;
  const store = openStore({ file: dbFile, readonly: true });
  try {
    for (const message of store.messagesForCli({})) {
      storedRows++;
      if (message.direction !== 'in' || message.status === 'incomplete') continue;
      const ids = message.protocol === 'hl7' ? [message.controlId] : message.sampleIds;
      for (const id of ids) if (id) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  } finally {
    store.close();
    temp.remove();
  }
  const missingIds: string[] = [];
  for (const [id, at] of ackCycle) {
    const n = counts.get(id) ?? 0;
    const row = figures[at - 1];
    if (n === 0) missingIds.push(id);
    if (!row) continue;
    if (n === 1) row.stored++;
    else if (n === 0) row.missing++;
    else row.duplicates++;
  }
  const duplicateIds = [...counts].filter(([, n]) => n > 1).map(([id, n]) => `${id} ×${n}`);
  return {
    seed: options.seed,
    cycles: figures,
    totals: {
      acked: ackCycle.size,
      storedOnce: [...ackCycle.keys()].filter((id) => counts.get(id) === 1).length,
      missing: missingIds.length,
      duplicates: duplicateIds.length,
      recognised: figures.reduce((sum, row) => sum + row.recognised, 0),
      storedRows,
    },
    missingIds,
    duplicateIds,
    durationMs: Math.round(performance.now() - started),
  };
}
