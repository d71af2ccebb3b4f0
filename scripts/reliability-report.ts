/**
 * Writes the figures of the long reliability runs into docs/RELIABILITY.md, between the
 * `<!-- soak:results -->` markers, from the JSON files the soak suites leave in
 * test-artifacts/reliability/. With `--run` it runs the soak suites first and exits with their
 * status, so a failure still gets its figures written.
 *
 *   npx tsx scripts/reliability-report.ts [--run]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const resultsDir = path.join(root, 'test-artifacts', 'reliability');
const docFile = path.join(root, 'docs', 'RELIABILITY.md');
const START = '<!-- soak:results -->';
const END = '<!-- /soak:results -->';

interface SoakResult<T> {
  suite: string;
  passed: boolean;
  finishedAt: string;
  machine: string;
  figures: T;
}

interface Memory {
  heapUsedMiB: number;
  rssMiB: number;
  externalMiB: number;
  arrayBuffersMiB: number;
}

interface Kill9Figures {
  seed: number;
  durationMs: number;
  cycles: {
    cycle: number;
    killedAfterMs: number;
    sent: number;
    acked: number;
    stored: number;
    missing: number;
    duplicates: number;
    recognised: number;
  }[];
  totals: {
    acked: number;
    storedOnce: number;
    missing: number;
    duplicates: number;
    recognised: number;
    storedRows: number;
  };
}

interface Tally {
  inputs: Record<string, number>;
  answers: Record<string, number>;
  violations: Record<string, number>;
}

interface FuzzFigures {
  seed: number;
  durationMs: number;
  hl7: { tally: Tally; durationMs: number; inputs: number; storedRows: number; accepted: number };
  astm: {
    tally: Tally;
    durationMs: number;
    inputs: number;
    storedRows: number;
    sessions: number;
    acked: number;
  };
  healthy: { sent: number; acked: number; rejected: number; failed: number; missing: string[] };
  uncaught: string[];
  memory: { before: Memory; after: Memory; peak: Memory };
  examples: { hl7: Record<string, string[]>; astm: Record<string, string[]> };
}

interface StormFigures {
  seed: number;
  links: number;
  durationMs: number;
  connections: number;
  behaviours: Record<string, number>;
  acknowledged: number;
  resent: number;
  recognisedResends: number;
  unfinished: string[];
  missing: string[];
  duplicates: string[];
  timersLeft: number;
  resourcesBefore: string;
  resourcesAfter: string;
  resourceGrowth: string[];
  memory: { before: Memory; after: Memory };
}

interface FloodRun {
  bytes: number;
  durationMs: number;
  mbPerSecond: number;
  closedEarly: boolean;
  memory: { before: Memory; after: Memory; peak: Memory };
  databaseGrowthMiB: number;
  codes: Record<string, number>;
  otherLink: { sent: number; acked: number; p50Ms: number; p99Ms: number; maxMs: number };
  recovered: string | null;
}

interface FloodFigures {
  hl7Flood?: FloodRun;
  astmFlood?: FloodRun;
  burst?: {
    attempts: number;
    endedByGateway: number;
    failed: number;
    durationMs: number;
    refusedLogged: number;
    analyzerAcked: number;
    analyzerP99Ms: number;
    example: string | null;
    resourceGrowth: string[];
  };
}

function read<T>(suite: string): SoakResult<T> | null {
  const file = path.join(resultsDir, `${suite}.json`);
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, 'utf8')) as SoakResult<T>;
}

const n = (value: number) => value.toLocaleString('en-US');
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map(String).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function heading(title: string, result: SoakResult<unknown>, command: string): string {
  const verdict = result.passed ? 'all checks held' : '**some checks failed** (see below)';
  return `### ${title}\n\nRun ${result.finishedAt.slice(0, 16).replace('T', ' ')} UTC with \`${command}\` on ${result.machine}: ${verdict}.`;
}

function kill9Section(result: SoakResult<Kill9Figures>): string {
  const f = result.figures;
  const rows = f.cycles.map((c, i) => [
    i === f.cycles.length - 1 ? 'final restart' : String(c.cycle),
    c.killedAfterMs === 0 ? 'clean stop' : n(c.killedAfterMs),
    n(c.sent),
    n(c.acked),
    n(c.stored),
    c.missing,
    c.duplicates,
    n(c.recognised),
  ]);
  return [
    heading('kill -9 under load', result, 'npm run test:soak'),
    `Seed ${f.seed}, ${seconds(f.durationMs)}. Per cycle: *sent* and *acknowledged* count every message the five simulators sent and saw acknowledged in that cycle, repeats included; *stored once* counts the messages first acknowledged in that cycle that the database holds exactly once at the end; *repeats recognised* counts resent messages the gateway answered as already stored (DUPLICATE_MESSAGE).`,
    table(
      [
        'cycle',
        'killed after (ms)',
        'sent',
        'acknowledged',
        'stored once',
        'missing',
        'stored twice',
        'repeats recognised',
      ],
      rows,
    ),
    `Totals: ${n(f.totals.acked)} distinct messages acknowledged, ${n(f.totals.storedOnce)} stored exactly once, **${f.totals.missing} missing, ${f.totals.duplicates} stored twice**; ${n(f.totals.recognised)} repeats recognised; ${n(f.totals.storedRows)} rows in the database.`,
  ].join('\n\n');
}

function fuzzSection(result: SoakResult<FuzzFigures>): string {
  const f = result.figures;
  const rate = (inputs: number, ms: number) => n(Math.round(inputs / (ms / 1000)));
  const properties = (protocol: 'HL7' | 'ASTM', tally: Tally, examples: Record<string, string[]>) =>
    Object.entries(tally.violations).map(([property, count]) => [
      protocol,
      property,
      count === 0 ? '0' : `**${n(count)}**`,
      count === 0 ? '' : (examples[property]?.[0] ?? '').replace(/\|/g, '\\|'),
    ]);
  const answers = (protocol: string, tally: Tally) =>
    Object.entries(tally.answers)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, count]) => [protocol, key.replace(/\|/g, '\\|'), n(count)]);
  const m = f.memory;
  return [
    heading('Fuzzing through real sockets', result, 'npm run test:soak'),
    `Seed ${f.seed}. HL7: ${n(f.hl7.inputs)} inputs in ${seconds(f.hl7.durationMs)} (${rate(f.hl7.inputs, f.hl7.durationMs)}/s), ${n(f.hl7.accepted)} control IDs acknowledged AA (probes included), ${n(f.hl7.storedRows)} rows stored. ASTM: ${n(f.astm.inputs)} inputs in ${n(f.astm.sessions)} sessions in ${seconds(f.astm.durationMs)} (${rate(f.astm.inputs, f.astm.durationMs)}/s), ${n(f.astm.acked)} messages acknowledged, ${n(f.astm.storedRows)} rows stored. Healthy link meanwhile: ${n(f.healthy.acked)} of ${n(f.healthy.sent)} acknowledged, ${f.healthy.missing.length} missing. Uncaught exceptions: ${f.uncaught.length}. Memory (after a full collection): heap ${m.before.heapUsedMiB} → ${m.after.heapUsedMiB} MiB, RSS ${m.before.rssMiB} → ${m.after.rssMiB} MiB; peak RSS ${m.peak.rssMiB} MiB, peak heap ${m.peak.heapUsedMiB} MiB.`,
    table(
      ['protocol', 'property', 'violations', 'first example'],
      [
        ...properties('HL7', f.hl7.tally, f.examples.hl7),
        ...properties('ASTM', f.astm.tally, f.examples.astm),
      ],
    ),
    'What each kind of input got back:',
    table(
      ['protocol', 'input → answer', 'count'],
      [...answers('HL7', f.hl7.tally), ...answers('ASTM', f.astm.tally)],
    ),
  ].join('\n\n');
}

function stormSection(result: SoakResult<StormFigures>): string {
  const f = result.figures;
  const behaviours = Object.entries(f.behaviours)
    .map(([behaviour, count]) => `${behaviour} ${n(count)}`)
    .join(', ');
  return [
    heading('Reconnect storm', result, 'npm run test:soak'),
    table(
      ['figure', 'value'],
      [
        ['client links (half HL7, half ASTM)', n(f.links)],
        ['seed', f.seed],
        ['duration', seconds(f.durationMs)],
        ['connections the analyzers accepted', n(f.connections)],
        ['what the analyzers did on them', behaviours],
        ['messages acknowledged', n(f.acknowledged)],
        ['messages sent again after a lost ACK', n(f.resent)],
        ['repeats the gateway recognised as stored', n(f.recognisedResends)],
        ['acknowledged but not stored once', f.missing.length],
        ['stored twice', f.duplicates.length],
        ['timers left on the gateway clock after close', f.timersLeft],
        ['handles before', f.resourcesBefore],
        ['handles after close', f.resourcesAfter],
        ['handle growth', f.resourceGrowth.join(', ') || 'none'],
        [
          'heap before → during (MiB)',
          `${f.memory.before.heapUsedMiB} → ${f.memory.after.heapUsedMiB}`,
        ],
      ],
    ),
  ].join('\n\n');
}

function floodSection(result: SoakResult<FloodFigures>): string {
  const f = result.figures;
  const parts = [heading('Floods', result, 'npm run test:soak')];
  const rows: string[][] = [];
  for (const [name, run] of [
    ['HL7, 0B and 1 GiB without 1C 0D', f.hl7Flood],
    ['ASTM, STX and 1 GiB without ETX', f.astmFlood],
  ] as const) {
    if (!run) continue;
    rows.push([
      name,
      seconds(run.durationMs),
      n(run.mbPerSecond),
      `${run.memory.before.heapUsedMiB} → ${run.memory.after.heapUsedMiB}`,
      String(run.memory.peak.arrayBuffersMiB),
      String(run.memory.peak.rssMiB),
      n(run.databaseGrowthMiB),
      Object.entries(run.codes)
        .filter(([code]) => !code.startsWith('LINK_PEER') && code !== 'LINK_TOO_MANY_CONNECTIONS')
        .map(([code, count]) => `${code} ×${count}`)
        .join(', ') || 'none',
      `${n(run.otherLink.acked)}/${n(run.otherLink.sent)}, p50 ${run.otherLink.p50Ms} ms, p99 ${run.otherLink.p99Ms} ms`,
    ]);
  }
  if (rows.length > 0) {
    parts.push(
      table(
        [
          'flood',
          'time',
          'MB/s',
          'heap MiB (before → after)',
          'peak buffers MiB',
          'peak RSS MiB',
          'database growth MiB',
          'codes logged',
          'other link: acknowledged, latency',
        ],
        rows,
      ),
    );
  }
  if (f.burst) {
    const b = f.burst;
    parts.push(
      `Burst: ${n(b.attempts)} connection attempts (500 at a time) against a server link limited to 1 connection while an analyzer held it and kept sending: ${n(b.endedByGateway)} ended by the gateway, ${b.failed} failed, in ${seconds(b.durationMs)}; ${n(b.refusedLogged)} refusals logged (LINK_TOO_MANY_CONNECTIONS, e.g. "${b.example ?? ''}"); the analyzer got ${n(b.analyzerAcked)} messages acknowledged meanwhile, p99 ${b.analyzerP99Ms} ms; handle growth after close: ${b.resourceGrowth.join(', ') || 'none'}.`,
    );
  }
  return parts.join('\n\n');
}

async function writeReport(): Promise<void> {
  const sections: string[] = [];
  const kill9 = read<Kill9Figures>('kill9');
  const fuzz = read<FuzzFigures>('fuzz');
  const storm = read<StormFigures>('storm');
  const floods = read<FloodFigures>('floods');
  if (kill9) sections.push(kill9Section(kill9));
  if (fuzz) sections.push(fuzzSection(fuzz));
  if (storm) sections.push(stormSection(storm));
  if (floods) sections.push(floodSection(floods));
  if (sections.length === 0) {
    console.error(`no results in ${resultsDir}: run npm run test:soak first`);
    process.exitCode = 1;
    return;
  }
  const block = `${START}\n\n${sections.join('\n\n')}\n\n${END}`;
  const current = existsSync(docFile)
    ? readFileSync(docFile, 'utf8')
    : `# Reliability\n\n${START}\n${END}\n`;
  const from = current.indexOf(START);
  const to = current.indexOf(END);
  const next =
    from >= 0 && to > from
      ? current.slice(0, from) + block + current.slice(to + END.length)
      : `${current.trimEnd()}\n\n${block}\n`;
  const options = (await prettier.resolveConfig(docFile)) ?? {};
  writeFileSync(docFile, await prettier.format(next, { ...options, filepath: docFile }));
  console.log(`wrote ${path.relative(root, docFile)} (${sections.length} suites)`);
}

let status = 0;
if (process.argv.includes('--run')) {
  const run = spawnSync(
    process.execPath,
    [
      path.join(root, 'node_modules', 'vitest', 'vitest.mjs'),
      'run',
      '--config',
      'test/reliability/vitest.soak.config.ts',
    ],
    { cwd: root, stdio: 'inherit' },
  );
  status = run.status ?? 1;
}
await writeReport();
if (status !== 0) process.exitCode = status;
