/**
 * End-to-end harness: the real `serve --web` as a child process, real analyzers on loopback, and
 * Debian's Chromium driven by playwright-core.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const artifacts = path.join(root, 'test-artifacts');

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Builds the UI into dist/renderer (the page `serve --web` serves). */
export function buildRenderer(): void {
  const result = spawnSync(process.execPath, ['scripts/build.mjs', '--renderer'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    throw new Error(`the UI build failed:\n${result.stdout}\n${result.stderr}`);
  }
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is needed at ${CHROMIUM} for the UI tests: apt-get install chromium (or set CHROMIUM_PATH)`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
}

export interface Served {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  stop(): Promise<number | null>;
}

/** Starts `serve --web` and resolves with its URL once it is up. */
export function serveWeb(args: {
  config: unknown;
  dir: string;
  webPort: number;
  token?: string;
}): Promise<Served> {
  const configFile = path.join(args.dir, 'gateway.json');
  writeFileSync(configFile, JSON.stringify(args.config));
  const cli = path.join(root, 'src-main/headless/main.ts');
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      cli,
      'serve',
      '--config',
      configFile,
      '--db',
      path.join(args.dir, 'gateway.sqlite'),
      '--web',
      `127.0.0.1:${args.webPort}`,
      ...(args.token ? ['--token', args.token] : []),
    ],
    { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => {
    log = (log + text).slice(-20_000);
  });
  const stop = (): Promise<number | null> =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve(child.exitCode);
      child.once('exit', (code) => resolve(code));
      child.kill('SIGTERM');
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve --web did not start:\n${log}`)), 30_000);
    const onData = (): void => {
      if (!log.includes('web UI at')) return;
      clearTimeout(timer);
      child.stderr!.off('data', onData);
      resolve({ child, url: `http://127.0.0.1:${args.webPort}`, stderr: () => log, stop });
    };
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve --web exited with ${code}:\n${log}`));
    });
  });
}

export function artifactPath(name: string): string {
  mkdirSync(artifacts, { recursive: true });
  return path.join(artifacts, name);
}
