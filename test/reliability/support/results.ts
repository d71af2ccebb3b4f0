/**
 * Soak results as JSON files in test-artifacts/reliability, one per suite; the report script
 * turns them into docs/RELIABILITY.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './serve-process';

export const resultsDir = path.join(repoRoot, 'test-artifacts', 'reliability');

export function machineDescription(): string {
  const cpus = os.cpus();
  const memory = Math.round(os.totalmem() / 1024 ** 3);
  return `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${memory} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}`;
}

export interface SoakResult {
  suite: string;
  /** What was checked and whether it held. */
  passed: boolean;
  finishedAt: string;
  machine: string;
  figures: unknown;
}

/** Writes the suite's figures; returns the file written. */
export function writeSoakResult(suite: string, passed: boolean, figures: unknown): string {
  mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${suite}.json`);
  const result: SoakResult = {
    suite,
    passed,
    finishedAt: new Date().toISOString(),
    machine: machineDescription(),
    figures,
  };
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}
