/**
 * The compiled `lab-gateway` program that package.json's `bin` names, built first when it is
 * missing or older than anything it is built from, so that tests run what users run.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const repoRoot = path.resolve(import.meta.dirname, '../..');

const BUILT_FROM = ['src-main', 'src-shared', 'scripts/build.mjs', 'package.json'];

interface BuildScript {
  buildCli(options: { logLevel: string }): Promise<void>;
}

function newestChange(file: string): number {
  const stat = statSync(file);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of readdirSync(file)) {
    newest = Math.max(newest, newestChange(path.join(file, name)));
  }
  return newest;
}

/** The file package.json's `bin` runs as `lab-gateway`. */
export function programPath(): string {
  const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
    bin?: Record<string, string>;
  };
  const bin = manifest.bin?.['lab-gateway'];
  if (!bin) throw new Error('package.json has no bin named lab-gateway');
  return path.join(repoRoot, bin);
}

export async function builtProgram(): Promise<string> {
  const program = programPath();
  const sourcesChanged = Math.max(...BUILT_FROM.map((f) => newestChange(path.join(repoRoot, f))));
  if (!existsSync(program) || statSync(program).mtimeMs < sourcesChanged) {
    const script = pathToFileURL(path.join(repoRoot, 'scripts/build.mjs')).href;
    const { buildCli } = (await import(script)) as BuildScript;
    await buildCli({ logLevel: 'silent' });
  }
  return program;
}
