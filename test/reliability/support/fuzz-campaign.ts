/**
 * One fuzz campaign: a gateway with fuzzed HL7 and ASTM server links and a healthy HL7 link that
 * a simulator keeps busy the whole time. The fast tier and the soak run the same campaign with
 * different counts.
 */
import type { InstrumentConfigInput } from '../../../src-shared/config';
import { runSimulator } from '../../../src-main/simulator/simulator';
import { freePort } from '../../support/ports';
import { ASTM_PROPERTIES, checkAstmStore, runAstmFuzzWorker } from './astm-fuzz';
import { FuzzTally } from './fuzz-tally';
import { GatewayHarness } from './gateway-harness';
import { memoryNow, trackPeakMemory, watchUncaught, type MemoryFigures } from './health';
import { HL7_PROPERTIES, checkHl7Store, runHl7FuzzWorker } from './hl7-fuzz';
import { seededRng } from './random';
import { LOOPBACK } from './wire';

export interface FuzzCampaignOptions {
  seed: number;
  inputsPerProtocol: number;
  /** Fuzzed links per protocol, each with one fuzzing connection. */
  workersPerProtocol: number;
  replyMs: number;
  /** Keep the session trace (every chunk in and out) as `serve` does by default. */
  trace: boolean;
  /** Messages per simulator run on the healthy link. */
  healthyBatch?: number;
}

export interface FuzzCampaignResult {
  seed: number;
  durationMs: number;
  hl7: {
    tally: FuzzTally;
    durationMs: number;
    inputs: number;
    storedRows: number;
    accepted: number;
  };
  astm: {
    tally: FuzzTally;
    durationMs: number;
    inputs: number;
    storedRows: number;
    sessions: number;
    acked: number;
  };
  healthy: {
    sent: number;
    acked: number;
    rejected: number;
    failed: number;
    missing: string[];
    errors: string[];
  };
  uncaught: string[];
  memory: { before: MemoryFigures; after: MemoryFigures; peak: MemoryFigures };
  /** How often each code was logged, over the whole run. */
  codes: Record<string, number>;
}

const HL7_LIMITS = { maxMessageBytes: 4096 };
const ASTM_LIMITS = { maxFrameText: 1024 };

export async function runFuzzCampaign(options: FuzzCampaignOptions): Promise<FuzzCampaignResult> {
  const uncaught = watchUncaught();
  const rng = seededRng(options.seed);
  const workers = options.workersPerProtocol;
  const hl7Ports = await Promise.all(Array.from({ length: workers }, () => freePort()));
  const astmPorts = await Promise.all(Array.from({ length: workers }, () => freePort()));
  const healthyPort = await freePort();
  const instruments: InstrumentConfigInput[] = [
    ...hl7Ports.map((port, i) => ({
      id: `fuzz-hl7-${i}`,
      protocol: 'hl7' as const,
      mode: 'server' as const,
      port,
      maxConnections: 2,
      maxMessageBytes: HL7_LIMITS.maxMessageBytes,
      maxBufferedBytes: 65_536,
    })),
    ...astmPorts.map((port, i) => ({
      id: `fuzz-astm-${i}`,
      protocol: 'astm' as const,
      mode: 'server' as const,
      port,
      maxConnections: 2,
      astm: { maxFrameText: ASTM_LIMITS.maxFrameText },
    })),
    // Two connections: each simulator run opens a new one as the previous one is closing.
    { id: 'healthy', protocol: 'hl7', mode: 'server', port: healthyPort, maxConnections: 2 },
  ];
  const harness = new GatewayHarness({ instruments, trace: options.trace });
  const peak = trackPeakMemory();
  const started = performance.now();
  try {
    await harness.waitFor(
      instruments.map((i) => i.id),
      'listening',
    );
    const before = memoryNow();

    let fuzzing = true;
    const healthy = {
      sent: 0,
      acked: 0,
      rejected: 0,
      failed: 0,
      missing: [] as string[],
      errors: [] as string[],
    };
    const healthyAcked: string[] = [];
    const healthyLoop = (async () => {
      for (let run = 0; fuzzing || run === 0; run++) {
        const summary = await runSimulator({
          protocol: 'hl7',
          target: { connect: { host: LOOPBACK, port: healthyPort } },
          messages: options.healthyBatch ?? 20,
          results: 3,
          ackTimeoutMs: 10_000,
          intervalMs: 20,
          runId: `H${run.toString(36).toUpperCase()}`,
          random: rng.fork().next,
          onAcked: (id) => healthyAcked.push(id),
        });
        healthy.sent += summary.sent;
        healthy.acked += summary.acked;
        healthy.rejected += summary.rejected;
        healthy.failed += summary.failed;
        healthy.errors.push(...summary.errors.slice(0, 5 - healthy.errors.length));
      }
    })();

    const share = (total: number, i: number) =>
      Math.floor(total / workers) + (i < total % workers ? 1 : 0);
    const hl7Work = hl7Ports.map((port, i) =>
      runHl7FuzzWorker({
        port,
        instrumentId: `fuzz-hl7-${i}`,
        workerId: String(i),
        inputs: share(options.inputsPerProtocol, i),
        rng: rng.fork(),
        tap: harness.tap,
        limits: HL7_LIMITS,
        replyMs: options.replyMs,
      }),
    );
    const astmWork = astmPorts.map((port, i) =>
      runAstmFuzzWorker({
        port,
        instrumentId: `fuzz-astm-${i}`,
        workerId: String(i),
        inputs: share(options.inputsPerProtocol, i),
        rng: rng.fork(),
        tap: harness.tap,
        limits: ASTM_LIMITS,
        replyMs: options.replyMs,
      }),
    );
    const timed = async <T>(work: Promise<T>[]): Promise<[T[], number]> => {
      const t0 = performance.now();
      const results = await Promise.all(work);
      return [results, Math.round(performance.now() - t0)];
    };
    const [[hl7Results, hl7Ms], [astmResults, astmMs]] = await Promise.all([
      timed(hl7Work),
      timed(astmWork),
    ]);
    fuzzing = false;
    await healthyLoop;

    const hl7Tally = new FuzzTally(Object.values(HL7_PROPERTIES));
    let hl7Rows = 0;
    hl7Results.forEach((result, i) => {
      hl7Tally.merge(result.tally);
      hl7Rows += checkHl7Store(
        harness.store,
        `fuzz-hl7-${i}`,
        [result],
        hl7Tally,
        options.seed,
      ).rows;
    });
    const astmTally = new FuzzTally(Object.values(ASTM_PROPERTIES));
    let astmRows = 0;
    astmResults.forEach((result, i) => {
      astmTally.merge(result.tally);
      astmRows += checkAstmStore(
        harness.store,
        `fuzz-astm-${i}`,
        [result],
        astmTally,
        options.seed,
      ).rows;
    });
    const storedHealthy = new Set<string>();
    for (const message of harness.store.messagesForCli({ instrumentId: 'healthy' })) {
      if (message.controlId) storedHealthy.add(message.controlId);
    }
    healthy.missing = healthyAcked.filter((id) => !storedHealthy.has(id));

    const after = memoryNow();
    return {
      seed: options.seed,
      durationMs: Math.round(performance.now() - started),
      hl7: {
        tally: hl7Tally,
        durationMs: hl7Ms,
        inputs: hl7Tally.totalInputs,
        storedRows: hl7Rows,
        accepted: hl7Results.reduce((sum, r) => sum + r.accepted.size, 0),
      },
      astm: {
        tally: astmTally,
        durationMs: astmMs,
        inputs: astmTally.totalInputs,
        storedRows: astmRows,
        sessions: astmResults.reduce((sum, r) => sum + r.sessions, 0),
        acked: astmResults.reduce((sum, r) => sum + r.acked.size, 0),
      },
      healthy,
      uncaught: uncaught.errors.map((error) =>
        error instanceof Error ? (error.stack ?? error.message) : String(error),
      ),
      memory: { before, after, peak: peak.stop() },
      codes: Object.fromEntries([...harness.tap.codeCounts].sort(([a], [b]) => a.localeCompare(b))),
    };
  } finally {
    peak.stop();
    uncaught.stop();
    await harness.dispose();
  }
}
