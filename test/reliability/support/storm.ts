/**
 * Reconnect storm: one gateway with many client links, each connecting to an analyzer of its
 * own that flaps. On every connection the analyzer does one thing, chosen at random: delivers a
 * few messages, sends one and drops the line without waiting for the ACK, sends part of one,
 * closes at once, resets, or holds the line silent for a moment. Like a real analyzer it sends
 * again whatever was not acknowledged, byte for byte, so a message stored before the line
 * dropped must be recognised, not stored twice. Once all of its messages are acknowledged it
 * stops listening, and the link keeps retrying against a closed port until the gateway closes.
 *
 * The gateway runs on a fake clock moved forward in small steps, so every timer it arms can be
 * counted once it has closed.
 */
import net from 'node:net';
import { ENQ, EOT } from '../../../src-main/protocols/astm/control';
import { openStore } from '../../../src-main/store/store';
import { FakeClock } from '../../support/fake-clock';
import { astmFrames, oruFramed, sendAstmSession, sendHl7 } from './analyzers';
import { pumpClock } from './clocks';
import { GatewayHarness } from './gateway-harness';
import {
  activeResources,
  formatResources,
  memoryNow,
  resourceGrowth,
  watchUncaught,
  type MemoryFigures,
} from './health';
import { seededRng, type Rng } from './random';
import { AckReader, LOOPBACK, RawPeer, eventually, sleep } from './wire';

const BEHAVIOURS = [
  ['deliver', 45],
  ['send and drop the line', 15],
  ['send part, then close', 10],
  ['close at once', 15],
  ['reset (RST)', 10],
  ['hold silent, then close', 5],
] as const;
type Behaviour = (typeof BEHAVIOURS)[number][0];

function pickBehaviour(rng: Rng): Behaviour {
  let roll = rng.next() * 100;
  for (const [behaviour, weight] of BEHAVIOURS) {
    roll -= weight;
    if (roll < 0) return behaviour;
  }
  return 'deliver';
}

class FlappingAnalyzer {
  readonly pending: string[];
  readonly acked = new Set<string>();
  readonly behaviours = new Map<Behaviour, number>();
  connections = 0;
  /** Messages sent again after a connection that did not end with their ACK. */
  resent = 0;
  port = 0;
  private readonly attempted = new Set<string>();
  private readonly server: net.Server;
  private readonly open = new Set<net.Socket>();
  private stopped = false;
  readonly finished: Promise<void>;
  private finish!: () => void;

  constructor(
    readonly protocol: 'hl7' | 'astm',
    readonly name: string,
    messages: number,
    private readonly minConnections: number,
    private readonly rng: Rng,
    private readonly replyMs: number,
  ) {
    this.pending = Array.from({ length: messages }, (_, n) => `${name}M${n}`);
    this.finished = new Promise((resolve) => (this.finish = resolve));
    this.server = net.createServer((socket) => void this.serve(socket));
  }

  listen(): Promise<number> {
    return new Promise((resolve) => {
      this.server.listen(0, LOOPBACK, () => {
        const address = this.server.address();
        this.port = typeof address === 'object' && address ? address.port : 0;
        resolve(this.port);
      });
    });
  }

  get done(): boolean {
    return this.pending.length === 0 && this.connections >= this.minConnections;
  }

  /** Stops listening and drops every open connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const socket of this.open) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async serve(socket: net.Socket): Promise<void> {
    this.connections++;
    this.open.add(socket);
    socket.once('close', () => this.open.delete(socket));
    socket.on('error', () => undefined);
    socket.setNoDelay(true);
    const behaviour: Behaviour =
      this.stopped || this.pending.length === 0 ? 'close at once' : pickBehaviour(this.rng);
    this.behaviours.set(behaviour, (this.behaviours.get(behaviour) ?? 0) + 1);
    const next = this.pending[0];
    if (next !== undefined && behaviour !== 'close at once' && behaviour !== 'reset (RST)') {
      if (this.attempted.has(next)) this.resent++;
      this.attempted.add(next);
    }
    try {
      switch (behaviour) {
        case 'deliver':
          await this.deliver(socket, this.rng.int(1, 3));
          socket.end();
          break;
        case 'send and drop the line':
          socket.write(this.wholeMessage(next!));
          socket.destroy();
          break;
        case 'send part, then close': {
          const whole = this.wholeMessage(next!);
          socket.end(whole.subarray(0, this.rng.int(1, whole.length - 1)));
          break;
        }
        case 'close at once':
          socket.end();
          break;
        case 'reset (RST)':
          socket.resetAndDestroy();
          break;
        case 'hold silent, then close':
          await sleep(this.rng.int(5, 50));
          socket.end();
          break;
      }
    } catch {
      socket.destroy();
    }
    if (this.done) {
      this.stopped = true;
      this.server.close();
      this.finish();
    }
  }

  /** The message as one burst, without waiting for any reply. */
  private wholeMessage(id: string): Buffer {
    if (this.protocol === 'hl7') return oruFramed(id, 2);
    return Buffer.concat([Buffer.of(ENQ), ...astmFrames(id, 2), Buffer.of(EOT)]);
  }

  private async deliver(socket: net.Socket, count: number): Promise<void> {
    const hl7 = this.protocol === 'hl7' ? new AckReader(socket) : null;
    const astm = hl7 ? null : new RawPeer(socket);
    for (let i = 0; i < count && this.pending.length > 0; i++) {
      const id = this.pending[0]!;
      if (i > 0) {
        if (this.attempted.has(id)) this.resent++;
        this.attempted.add(id);
      }
      let ok: boolean;
      if (hl7) {
        ok = (await sendHl7(hl7, id, this.replyMs, 2))?.code === 'AA';
      } else {
        ok = (await sendAstmSession(astm!, astmFrames(id, 2), this.replyMs)).kind === 'acked';
      }
      if (!ok) return;
      this.acked.add(id);
      this.pending.shift();
    }
  }
}

export interface StormOptions {
  links: number;
  seed: number;
  messagesPerLink: number;
  /** Each analyzer flaps at least this many times. */
  minConnections: number;
  replyMs?: number;
  timeoutMs: number;
}

export interface StormResult {
  seed: number;
  links: number;
  durationMs: number;
  /** Connections the analyzers accepted, in all. */
  connections: number;
  behaviours: Record<string, number>;
  acknowledged: number;
  resent: number;
  /** Messages the gateway recognised as already stored (acknowledged again, kept once). */
  recognisedResends: number;
  unfinished: string[];
  missing: string[];
  duplicates: string[];
  /** Timers left on the gateway's clock after close. */
  timersLeft: number;
  resourcesBefore: string;
  resourcesAfter: string;
  resourceGrowth: string[];
  uncaught: string[];
  memory: { before: MemoryFigures; after: MemoryFigures };
}

export async function runReconnectStorm(options: StormOptions): Promise<StormResult> {
  const uncaught = watchUncaught();
  const resourcesBefore = activeResources();
  const memoryBefore = memoryNow();
  const rng = seededRng(options.seed);
  const analyzers = Array.from(
    { length: options.links },
    (_, i) =>
      new FlappingAnalyzer(
        i % 2 === 0 ? 'hl7' : 'astm',
        `ST${i}`,
        options.messagesPerLink,
        options.minConnections,
        rng.fork(),
        options.replyMs ?? 5_000,
      ),
  );
  const ports = await Promise.all(analyzers.map((analyzer) => analyzer.listen()));
  const clock = new FakeClock(Date.now());
  const harness = new GatewayHarness({
    clock,
    random: rng.fork().next,
    instruments: analyzers.map((analyzer, i) => ({
      id: `storm-${i}`,
      protocol: analyzer.protocol,
      mode: 'client' as const,
      port: ports[i]!,
      reconnect: { initialDelayMs: 10, maxDelayMs: 200, jitter: 0.5 },
    })),
  });
  const pump = pumpClock(clock, 20);
  const started = performance.now();
  let unfinished: string[] = [];
  let timersLeft = -1;
  let memoryAfter = memoryBefore;
  try {
    const allDone = Promise.all(analyzers.map((analyzer) => analyzer.finished));
    await Promise.race([allDone, sleep(options.timeoutMs)]);
    unfinished = analyzers
      .filter((analyzer) => !analyzer.done)
      .map(
        (a) => `${a.name}: ${a.pending.length} unacknowledged after ${a.connections} connections`,
      );
    // The links now retry against closed ports for a while: backoff with nothing to reach.
    await sleep(100);
    memoryAfter = memoryNow();
    await harness.close(1_000);
    pump.stop();
    timersLeft = clock.timers;
  } finally {
    pump.stop();
    await Promise.all(analyzers.map((analyzer) => analyzer.stop()));
  }

  const reopened = openStore({ file: harness.dbFile, readonly: true });
  const counts = new Map<string, number>();
  try {
    for (const message of reopened.messagesForCli({})) {
      if (message.direction !== 'in' || message.status === 'incomplete') continue;
      const ids = message.protocol === 'hl7' ? [message.controlId] : message.sampleIds;
      for (const id of ids) if (id) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  } finally {
    reopened.close();
  }
  const missing: string[] = [];
  for (const analyzer of analyzers) {
    for (const id of analyzer.acked) if (counts.get(id) !== 1) missing.push(id);
  }
  const duplicates = [...counts].filter(([, n]) => n > 1).map(([id, n]) => `${id} ×${n}`);
  const recognisedResends = [...harness.tap.duplicatesByInstrument.values()].reduce(
    (sum, n) => sum + n,
    0,
  );
  await harness.dispose();
  await eventually(() => resourceGrowth(resourcesBefore, activeResources()).length === 0, 3_000);
  const resourcesAfter = activeResources();
  uncaught.stop();

  const behaviours: Record<string, number> = {};
  for (const analyzer of analyzers) {
    for (const [behaviour, count] of analyzer.behaviours) {
      behaviours[behaviour] = (behaviours[behaviour] ?? 0) + count;
    }
  }
  return {
    seed: options.seed,
    links: options.links,
    durationMs: Math.round(performance.now() - started),
    connections: analyzers.reduce((sum, a) => sum + a.connections, 0),
    behaviours,
    acknowledged: analyzers.reduce((sum, a) => sum + a.acked.size, 0),
    resent: analyzers.reduce((sum, a) => sum + a.resent, 0),
    recognisedResends,
    unfinished,
    missing,
    duplicates,
    timersLeft,
    resourcesBefore: formatResources(resourcesBefore),
    resourcesAfter: formatResources(resourcesAfter),
    resourceGrowth: resourceGrowth(resourcesBefore, resourcesAfter),
    uncaught: uncaught.errors.map((error) => String(error)),
    memory: { before: memoryBefore, after: memoryAfter },
  };
}
