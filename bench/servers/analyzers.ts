/**
 * Many simulated analyzers in one process, apart from the gateway so that their CPU time is not
 * the gateway's. Each is the project's runSimulator: one message, wait for its acknowledgement,
 * pause, the next. Driven over the fork IPC channel: `listen` starts analyzers that wait for the
 * gateway's client links and answers with their ports; `connect` starts analyzers that connect
 * to the gateway's server links and is the last command; `done` comes once all have finished.
 */
import { runSimulator, type SimulatorSummary } from '../../src-main/simulator/simulator';
import { seededRandom } from '../fixtures';

export interface AnalyzerPlan {
  id: string;
  protocol: 'astm' | 'hl7';
  /** Listen: 0 (any free port). Connect: the gateway's port. */
  port: number;
  messages: number;
  /** Pause between an acknowledgement and the next message. */
  intervalMs: number;
  results: number;
}

export interface AnalyzerOutcome {
  id: string;
  protocol: 'astm' | 'hl7';
  acked: number;
  failed: number;
  rejected: number;
  /** Send → acknowledgement of each acknowledged message, ms. */
  latencies: number[];
  firstError: string | null;
}

export type AnalyzersCommand =
  | { cmd: 'listen'; analyzers: AnalyzerPlan[] }
  | { cmd: 'connect'; analyzers: AnalyzerPlan[] }
  | { cmd: 'exit' };

export type AnalyzersReply =
  | { type: 'ready' }
  | { type: 'listening'; ports: Record<string, number> }
  | { type: 'connecting' }
  | { type: 'done'; analyzers: AnalyzerOutcome[]; cpuMs: number }
  | { type: 'failed'; error: string };

function reply(message: AnalyzersReply): void {
  process.send?.(message);
}

function cpuMs(): number {
  const usage = process.resourceUsage();
  return (usage.userCPUTime + usage.systemCPUTime) / 1000;
}

const running: Promise<AnalyzerOutcome>[] = [];

function outcome(plan: AnalyzerPlan, summary: SimulatorSummary): AnalyzerOutcome {
  return {
    id: plan.id,
    protocol: plan.protocol,
    acked: summary.acked,
    failed: summary.failed,
    rejected: summary.rejected,
    latencies: summary.latencies,
    firstError: summary.errors[0] ?? null,
  };
}

function start(
  plan: AnalyzerPlan,
  mode: 'listen' | 'connect',
  onListening?: (port: number) => void,
) {
  const run = runSimulator({
    protocol: plan.protocol,
    target: { [mode]: { host: '127.0.0.1', port: plan.port } } as
      { listen: { host: string; port: number } } | { connect: { host: string; port: number } },
    messages: plan.messages,
    results: plan.results,
    intervalMs: plan.intervalMs,
    ackTimeoutMs: 30_000,
    random: seededRandom(running.length + 1),
    runId: plan.id.replace(/[^A-Za-z0-9]/g, '').toUpperCase(),
    ...(onListening ? { onListening } : {}),
  }).then(
    (summary) => outcome(plan, summary),
    (error: unknown) => ({
      id: plan.id,
      protocol: plan.protocol,
      acked: 0,
      failed: plan.messages,
      rejected: 0,
      latencies: [],
      firstError: String(error),
    }),
  );
  running.push(run);
}

async function finish(): Promise<void> {
  const cpuAtStart = cpuMs();
  const analyzers = await Promise.all(running);
  reply({ type: 'done', analyzers, cpuMs: cpuMs() - cpuAtStart });
}

process.on('message', (command: AnalyzersCommand) => {
  if (command.cmd === 'exit') {
    process.disconnect();
    return;
  }
  if (command.cmd === 'listen') {
    const ports: Record<string, number> = {};
    let waiting = command.analyzers.length;
    if (waiting === 0) reply({ type: 'listening', ports });
    for (const plan of command.analyzers) {
      start(plan, 'listen', (port) => {
        ports[plan.id] = port;
        if (--waiting === 0) reply({ type: 'listening', ports });
      });
    }
  } else {
    for (const plan of command.analyzers) start(plan, 'connect');
    reply({ type: 'connecting' });
    // The connecting analyzers come last: from here on, every analyzer is running.
    void finish().catch((error: unknown) => reply({ type: 'failed', error: String(error) }));
  }
});
reply({ type: 'ready' });
