/**
 * Decodes each known analyzer recording in a folder with the decoder behind `decode astm` and
 * compares it with the expectations in captures-expected.ts. One line per file, then how many
 * decode as expected. Exit 0 when all do, 1 when any does not (or is missing), 2 on bad usage.
 *
 *   npm run check:captures -- DIR
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { decodeAstm } from '../src-main/protocols/astm/decode';
import { compareCapture, type CaptureExpectation } from './capture-compare';
import { KNOWN_CAPTURES } from './captures-expected';

const USAGE = `Usage: npm run check:captures -- DIR

Decodes each known analyzer recording in DIR as \`gateway decode astm\` would and compares it with
the expectations kept in scripts/captures-expected.ts.`;

export interface CaptureReport {
  /** One line per known capture, then one per file without expectations. */
  lines: string[];
  /** Known captures that decode as expected, out of `known`. */
  passed: number;
  known: number;
}

/** Checks every known capture in `dir` (a folder that exists). */
export function checkCaptures(
  dir: string,
  expectations: Readonly<Record<string, CaptureExpectation>>,
): CaptureReport {
  const present = new Set(
    readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => entry.name),
  );
  const lines: string[] = [];
  let passed = 0;
  for (const [name, expected] of Object.entries(expectations)) {
    const label = `${name} (${expected.device})`;
    if (!present.has(name)) {
      lines.push(`FAIL ${label}: not found in ${dir}`);
      continue;
    }
    const differences = differencesIn(path.join(dir, name), expected);
    if (differences.length === 0) {
      passed++;
      lines.push(`pass ${label}`);
    } else {
      lines.push(`FAIL ${label}: ${differences.join('; ')}`);
    }
  }
  for (const name of [...present].sort()) {
    if (!Object.hasOwn(expectations, name)) {
      lines.push(`not checked ${name}: no expectations are kept for it`);
    }
  }
  return { lines, passed, known: Object.keys(expectations).length };
}

function differencesIn(file: string, expected: CaptureExpectation): string[] {
  try {
    return compareCapture(decodeAstm(readFileSync(file)).messages, expected);
  } catch (error) {
    return [`the decoder threw: ${error instanceof Error ? error.message : String(error)}`];
  }
}

export interface Output {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** The command: checks DIR, prints the report, returns the exit code. */
export function runCheckCaptures(
  argv: readonly string[],
  output: Output,
  expectations: Readonly<Record<string, CaptureExpectation>> = KNOWN_CAPTURES,
): number {
  if (argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h')) {
    output.out(USAGE);
    return 0;
  }
  if (argv.length !== 1 || argv[0] === '' || argv[0]!.startsWith('-')) {
    output.err(argv.length === 0 ? USAGE : `check:captures: expected one folder\n\n${USAGE}`);
    return 2;
  }
  const dir = argv[0]!;
  let isFolder = false;
  try {
    isFolder = statSync(dir).isDirectory();
  } catch {
    // Reported just below, as for a file.
  }
  if (!isFolder) {
    output.err(`check:captures: there is no folder at ${dir}`);
    return 2;
  }
  const report = checkCaptures(dir, expectations);
  for (const line of report.lines) output.out(line);
  output.out(`${report.passed} of ${report.known} captures decode as expected`);
  return report.passed === report.known ? 0 : 1;
}

const isEntry = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isEntry) {
  process.exitCode = runCheckCaptures(process.argv.slice(2), {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  });
}
