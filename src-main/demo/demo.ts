/**
 * Demo instruments: two analyzers simulated on loopback and linked to the gateway, so that a new
 * user sees live traffic within seconds. One ASTM analyzer connects to a server link of the
 * gateway; the gateway's HL7 client link connects to one HL7 analyzer. Both send a message every
 * few seconds until stopped.
 */
import net from 'node:net';
import { instrumentConfigSchema, type InstrumentConfigInput } from '../../src-shared/config';
import type { Gateway } from '../gateway/gateway';
import { startAstmAnalyzer, startHl7Analyzer, type DemoAnalyzer } from './analyzers';

export interface DemoOptions {
  /** Default 3 s. */
  intervalMs?: number;
  /** Results per message; default 6. */
  results?: number;
  random?: () => number;
}

export interface Demo {
  instrumentIds: string[];
  /** Stops the analyzers and removes the demo instruments; their messages stay in the store. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const LISTEN_ATTEMPTS = 3;
const LISTEN_WAIT_MS = 5_000;

export async function startDemo(gateway: Gateway, options: DemoOptions = {}): Promise<Demo> {
  const intervalMs = options.intervalMs ?? 3_000;
  const common = {
    intervalMs,
    results: options.results ?? 6,
    ...(options.random ? { random: options.random } : {}),
  };
  // Sample IDs of this run never collide with an earlier run's in the same database.
  const run = Date.now().toString(36).toUpperCase().slice(-5);
  const analyzers: DemoAnalyzer[] = [];
  const instrumentIds: string[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(analyzers.splice(0).map((analyzer) => analyzer.stop()));
    for (const id of instrumentIds) {
      if (gateway.status(id) === null) continue;
      try {
        await gateway.removeInstrument(id);
      } catch {
        // The gateway is already shutting down; it closes the links itself.
      }
    }
  };

  try {
    const hl7 = await startHl7Analyzer({ ...common, host: HOST, port: 0, idPrefix: `H${run}` });
    analyzers.push(hl7);

    const astmId = freeId(gateway, 'demo-astm');
    const astmPort = await listenOnFreePort(gateway, astmId);
    instrumentIds.push(astmId);
    analyzers.push(
      startAstmAnalyzer({ ...common, host: HOST, port: astmPort, idPrefix: `A${run}` }),
    );

    const hl7Id = freeId(gateway, 'demo-hl7');
    addInstrument(gateway, {
      id: hl7Id,
      name: 'Demo hematology analyzer',
      protocol: 'hl7',
      mode: 'client',
      host: HOST,
      port: hl7.port,
      reconnect: { initialDelayMs: 500, maxDelayMs: 5_000 },
    });
    instrumentIds.push(hl7Id);
  } catch (error) {
    await stop();
    throw error;
  }
  let stopping: Promise<void> | null = null;
  return { instrumentIds: [...instrumentIds], stop: () => (stopping ??= stop()) };
}

/**
 * Starts the demo at most once for a gateway: what the `startDemo` command, `--demo` and the
 * `demo` command share, so pressing the button twice never adds a second pair.
 */
export class DemoControl {
  private running: Promise<Demo> | null = null;

  constructor(
    private readonly gateway: Gateway,
    private readonly options: DemoOptions = {},
  ) {}

  async start(): Promise<{ instrumentIds: string[] }> {
    this.running ??= startDemo(this.gateway, this.options);
    try {
      const demo = await this.running;
      return { instrumentIds: [...demo.instrumentIds] };
    } catch (error) {
      this.running = null;
      throw error;
    }
  }

  get started(): boolean {
    return this.running !== null;
  }

  async stop(): Promise<void> {
    const running = this.running;
    this.running = null;
    if (!running) return;
    const demo = await running.catch(() => null);
    await demo?.stop();
  }
}

function addInstrument(gateway: Gateway, config: InstrumentConfigInput): void {
  gateway.addInstrument(instrumentConfigSchema.parse(config));
}

function freeId(gateway: Gateway, base: string): string {
  let id = base;
  for (let n = 2; gateway.status(id) !== null; n++) id = `${base}-${n}`;
  return id;
}

/** Adds the ASTM server link on a free port, trying another port if it was taken meanwhile. */
async function listenOnFreePort(gateway: Gateway, id: string): Promise<number> {
  let lastProblem = '';
  for (let attempt = 0; attempt < LISTEN_ATTEMPTS; attempt++) {
    const port = await freeLoopbackPort();
    const outcome = waitForListening(gateway, id);
    addInstrument(gateway, {
      id,
      name: 'Demo chemistry analyzer',
      protocol: 'astm',
      mode: 'server',
      host: HOST,
      port,
    });
    const problem = await outcome;
    if (problem === null) return port;
    lastProblem = problem;
    await gateway.removeInstrument(id);
  }
  throw new Error(`the demo could not open a port for its ASTM analyzer: ${lastProblem}`);
}

/** null once the link listens; otherwise why it does not. */
function waitForListening(gateway: Gateway, id: string): Promise<string | null> {
  return new Promise((resolve) => {
    const finish = (problem: string | null) => {
      clearTimeout(timer);
      unsubscribe();
      resolve(problem);
    };
    const timer = setTimeout(
      () => finish(`no answer after ${LISTEN_WAIT_MS / 1000} s`),
      LISTEN_WAIT_MS,
    );
    const unsubscribe = gateway.subscribe((event) => {
      if (event.type !== 'status' || event.status.id !== id) return;
      if (event.status.state === 'listening') finish(null);
      else if (event.status.state === 'error') finish(event.status.reason);
    });
  });
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host: HOST, port: 0 }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
