/** What `serve --web` and `demo` share: reading the flags, finding the built UI, reporting. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunError, UsageError } from '../cli-support';
import type { CommandService } from '../../service/types';
import { parseWebAddress, webBindProblem } from './bind-policy';
import type { DownloadRegistry } from './downloads';
import { WebServerError, startWebServer, type WebServer } from './server';

export interface WebFlags {
  host: string;
  port: number;
  token?: string;
}

/** Checks `--web`/`--token` before anything opens; bad usage is exit code 2. */
export function parseWebFlags(
  command: string,
  web: string | undefined,
  token: string | undefined,
): WebFlags | null {
  if (web === undefined) {
    if (token !== undefined) throw new UsageError(`${command}: --token needs --web HOST:PORT`);
    return null;
  }
  const address = parseWebAddress(web);
  if (!address) {
    throw new UsageError(
      `${command}: --web must look like HOST:PORT with a port between 0 and 65535 (got "${web}")`,
    );
  }
  const problem = webBindProblem(address.host, token);
  if (problem) throw new UsageError(`${command}: ${problem}`);
  return token === undefined ? address : { ...address, token };
}

/** The folder holding package.json: the checkout, or the installed app. */
function packageRoot(): string | null {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/** dist/renderer of the gateway's own folder, whatever the working directory. */
export function defaultUiDir(): string {
  return path.join(packageRoot() ?? process.cwd(), 'dist', 'renderer');
}

export function gatewayVersion(): string {
  const root = packageRoot();
  if (!root) return '0.0.0';
  try {
    const json = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      version?: unknown;
    };
    return typeof json.version === 'string' ? json.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/**
 * Starts the web server; a port in use or an address not of this machine is exit code 1.
 * `downloads` is the registry the runtime's exports go to.
 */
export async function openWebUi(
  command: string,
  flags: WebFlags,
  service: CommandService,
  downloads: DownloadRegistry,
  uiDir: string,
  log: (line: string) => void,
): Promise<WebServer> {
  try {
    return await startWebServer({ ...flags, service, downloads, staticDir: uiDir, log });
  } catch (error) {
    if (error instanceof WebServerError) throw new RunError(`${command}: ${error.message}`);
    throw error;
  }
}

/** The address to print: with a placeholder where the token goes, never the token itself. */
export function printableUrl(server: WebServer, withToken: boolean): string {
  return withToken ? `${server.url}/?token=<TOKEN>` : server.url;
}

export function uiIsBuilt(uiDir: string): boolean {
  return existsSync(path.join(uiDir, 'index.html'));
}

/** Resolves on the first SIGINT (Ctrl-C) or SIGTERM. */
export function waitForStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/**
 * Waits for `stopSignal` with the process held open: signal listeners alone do not keep Node
 * running, and a gateway without a link or a web server has nothing else that does.
 */
export async function keepRunningUntil<T>(stopSignal: Promise<T>): Promise<T> {
  const hold = setInterval(() => undefined, 3_600_000);
  try {
    return await stopSignal;
  } finally {
    clearInterval(hold);
  }
}

/** The web UI's own address, which no instrument may listen on. */
export function webUiPort(server: WebServer): { host: string; port: number; what: string } {
  return { host: server.host, port: server.port, what: 'the web UI' };
}
