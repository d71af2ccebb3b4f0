/**
 * `npm run bench [-- SUITE...] [--quick]`: runs benchmark suites and prints their tables. Every
 * figure is reported next to a baseline measured in the same run, as a ratio. A full run (not
 * --quick) also writes docs/PERFORMANCE.md.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { machine, markdownTable, type Suite, type SuiteReport } from './support';

const suites: Record<string, () => Promise<Suite>> = {
  protocols: async () => (await import('./protocols')).protocolsSuite,
  gateway: async () => (await import('./gateway')).gatewaySuite,
  compare: async () => (await import('./compare')).compareSuite,
  scale: async () => (await import('./scale')).scaleSuite,
  history: async () => (await import('./history')).historySuite,
  orders: async () => (await import('./orders')).ordersSuite,
  serial: async () => (await import('./serial')).serialSuite,
  forwarding: async () => (await import('./forwarding')).forwardingSuite,
};

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    options: { quick: { type: 'boolean', default: false } },
    allowPositionals: true,
  });
  const names = positionals.length > 0 ? positionals : Object.keys(suites);
  for (const name of names) {
    if (!suites[name]) {
      console.error(`Unknown benchmark "${name}". Known: ${Object.keys(suites).join(', ')}`);
      process.exit(2);
    }
  }
  const quick = values.quick ?? false;
  const reports: SuiteReport[] = [];
  console.log(`Machine: ${machine()}${quick ? ' (quick run: figures are not meaningful)' : ''}\n`);
  for (const name of names) {
    const suite = await suites[name]!();
    const report = await suite({ quick });
    reports.push(report);
    console.log(`## ${report.title}\n\n${report.method}\n\n${markdownTable(report.rows)}\n`);
    for (const line of report.ratios) console.log(`- ${line}`);
    console.log('');
  }
  if (!quick) {
    for (const [index, name] of names.entries()) writeSection(name, reports[index]!);
  }
}

const DOC = new URL('../docs/PERFORMANCE.md', import.meta.url);

/** Replaces (or appends) one suite's section of docs/PERFORMANCE.md, leaving the others alone. */
function writeSection(name: string, report: SuiteReport): void {
  const when = new Date().toISOString().slice(0, 10);
  const section = [
    `<!-- suite:${name} -->`,
    `## ${report.title}`,
    '',
    `Measured ${when} with \`npm run bench -- ${name}\` on: ${machine()}.`,
    '',
    report.method,
    '',
    markdownTable(report.rows),
    '',
    ...report.ratios.map((line) => `- ${line}`),
    `<!-- /suite:${name} -->`,
  ].join('\n');
  let doc = existsSync(DOC)
    ? readFileSync(DOC, 'utf8')
    : '# Performance\n\nEvery figure below comes from `npm run bench` and is compared with a baseline measured in the same run.\n';
  const pattern = new RegExp(`<!-- suite:${name} -->[\\s\\S]*?<!-- /suite:${name} -->`);
  doc = pattern.test(doc)
    ? doc.replace(pattern, () => section)
    : `${doc.trimEnd()}\n\n${section}\n`;
  writeFileSync(DOC, doc);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
