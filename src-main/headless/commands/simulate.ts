import { appendFileSync } from 'node:fs';
import { runSimulator, type SimulatorTarget } from '../../simulator/simulator';
import {
  UsageError,
  parseCommandArgs,
  parseHostPort,
  requireInt,
  writeLine,
  type Io,
} from '../cli-support';

const HELP = `Usage: lab-gateway simulate astm|hl7 (--connect HOST:PORT | --listen PORT) [options]

Behaves as an analyzer: sends N result messages of K results each, waits for each to be
acknowledged as the protocol requires, then prints one JSON summary line and exits (0 when every
message was acknowledged, 1 otherwise).
  --connect HOST:PORT   connect to a gateway server link
  --listen [HOST:]PORT  wait for a gateway client link to connect, then send
  --messages N          messages to send (default 1)
  --results K           results per message (default 5)
  --concurrency C       connections sending at once, sharing the messages (default 1)
  --interval MS         pause between messages on one connection (default 0)
  --timeout MS          give up on a message after this long without its acknowledgement (default 60000)
  --ack-log FILE        append the ID of every acknowledged message to FILE, one per line`;

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function simulateCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('simulate', argv, {
    connect: { type: 'string' },
    listen: { type: 'string' },
    messages: { type: 'string' },
    results: { type: 'string' },
    concurrency: { type: 'string' },
    interval: { type: 'string' },
    timeout: { type: 'string' },
    'ack-log': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    writeLine(io.stdout, HELP);
    return 0;
  }
  const [protocol, ...extra] = positionals;
  if (protocol !== 'astm' && protocol !== 'hl7') {
    throw new UsageError(`simulate: the protocol must be "astm" or "hl7"\n\n${HELP}`);
  }
  if (extra.length > 0) throw new UsageError(`simulate: unexpected argument "${extra[0]}"`);
  if (!values.connect === !values.listen) {
    throw new UsageError('simulate: give exactly one of --connect HOST:PORT or --listen PORT');
  }
  const target: SimulatorTarget = values.connect
    ? { connect: parseHostPort('simulate', 'connect', values.connect) }
    : { listen: parseHostPort('simulate', 'listen', values.listen!) };
  const ackLog = values['ack-log'];
  const summary = await runSimulator({
    protocol,
    target,
    messages: requireInt('simulate', 'messages', values.messages, 1, 0),
    results: requireInt('simulate', 'results', values.results, 5, 0),
    concurrency: requireInt('simulate', 'concurrency', values.concurrency, 1, 1),
    intervalMs: requireInt('simulate', 'interval', values.interval, 0, 0),
    ackTimeoutMs: requireInt('simulate', 'timeout', values.timeout, 60_000, 1),
    ...(ackLog ? { onAcked: (id: string) => appendFileSync(ackLog, `${id}\n`) } : {}),
    onListening: (port) => io.stderr.write(`simulate: listening on port ${port}\n`),
  });
  const sorted = [...summary.latencies].sort((a, b) => a - b);
  const round = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);
  writeLine(io.stdout, {
    sent: summary.sent,
    acked: summary.acked,
    rejected: summary.rejected,
    failed: summary.failed,
    elapsedMs: summary.elapsedMs,
    latencyMs: { p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)) },
  });
  for (const error of [...new Set(summary.errors)].slice(0, 10))
    io.stderr.write(`simulate: ${error}\n`);
  return summary.acked === summary.sent && summary.failed === 0 ? 0 : 1;
}
