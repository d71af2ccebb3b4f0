/**
 * Servers under test as processes of their own, measured from outside through /proc (Linux), so
 * that every server — Node, Python, the gateway's `serve` — is measured the same way.
 */
import { spawn, fork, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

/** Linux reports CPU times in /proc in units of USER_HZ, 100 on every architecture Node runs on. */
const USER_HZ = 100;

export const CLI = fileURLToPath(new URL('../../src-main/headless/main.ts', import.meta.url));

export function script(name: string): string {
  return fileURLToPath(new URL(`./${name}`, import.meta.url));
}

/** User + system CPU time of a process so far (all its threads), or NaN without /proc. */
export function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
  } catch {
    return NaN;
  }
}

/** Resident memory of a process by kind, from /proc/PID/smaps_rollup: anonymous or file-backed. */
export function residentOf(pid: number): { anonymous: number; file: number } {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kib = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? NaN) * 1024;
    return { anonymous: kib('Anonymous'), file: kib('Rss') - kib('Anonymous') };
  } catch {
    return { anonymous: NaN, file: NaN };
  }
}

/** A line of /proc/PID/status in bytes: `VmRSS` now, `VmHWM` the peak so far. */
export function memoryOf(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1];
    return kib === undefined ? NaN : Number(kib) * 1024;
  } catch {
    return NaN;
  }
}

/**
 * `count` distinct TCP ports on 127.0.0.1 that were free a moment ago (held open together, so
 * that the system cannot hand out one of them twice).
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    return typeof address === 'object' && address ? address.port : 0;
  });
  await Promise.all(
    servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  );
  return ports;
}

export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

/** The machine's load around a suite, which moves single figures more than ratios. */
export function loadNote(before: number): string {
  const after = os.loadavg()[0]!;
  return (
    `Load average (1 min) before / after: ${before.toFixed(2)} / ${after.toFixed(2)} on ` +
    `${os.cpus().length} cores.`
  );
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface ServerProcess {
  readonly pid: number;
  readonly port: number;
  /** What the server said about itself on its `listening` line after the port. */
  readonly note: string;
  readonly child: ChildProcess;
  /** SIGTERM, then SIGKILL when it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

function stopper(child: ChildProcess): (graceMs?: number) => Promise<void> {
  return async (graceMs = 10_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
}

/** Why a process did not come up, from what it said. */
function failure(what: string, why: string, output: string): Error {
  const tail = output.trim().split('\n').slice(-3).join(' / ').slice(0, 300);
  return new Error(`${what} ${why}${tail ? `: ${tail}` : ''}`);
}

/**
 * Starts a server that prints `listening PORT [NOTE]` on stdout once it accepts connections;
 * rejects with its last words when it exits or stays silent for `timeoutMs`.
 */
export function startListening(
  what: string,
  command: string,
  args: string[],
  timeoutMs = 30_000,
): Promise<ServerProcess> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-2_000);
  });
  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(failure(what, `did not start within ${timeoutMs / 1000} s`, output));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(failure(what, 'could not be started', error.message));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(failure(what, `exited (${signal ?? `code ${code}`})`, output));
    });
    const onData = (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = /^listening (\d+) ?(.*)$/m.exec(stdout);
      if (!line) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.removeAllListeners('exit');
      // Keep draining, so that a server writing more never blocks on a full pipe.
      child.stdout!.resume();
      resolve({
        pid: child.pid!,
        port: Number(line[1]),
        note: line[2]!.trim(),
        child,
        stop: stopper(child),
      });
    };
    child.stdout!.on('data', onData);
  });
}

/** `node` with the TypeScript loader this process runs with. */
export function nodeArgs(file: string, args: string[]): [string, string[]] {
  return [process.execPath, [...process.execArgv, file, ...args]];
}

export interface ServeOptions {
  config: string;
  db: string;
  /** Where the gateway's JSON log lines go. */
  log: string;
  durability?: 'full' | 'normal';
  /** Modules loaded before the CLI (`--import`), e.g. an instrumentation probe. */
  preload?: string[];
  /** Give the process an IPC channel (for a probe). */
  ipc?: boolean;
}

/**
 * The gateway's own `serve` command as a child process, its log in a file (reading a pipe here
 * would cost this process CPU for every message). Resolves once `ready(logText)` holds.
 */
export async function startServe(
  options: ServeOptions,
  ready: (log: string) => boolean,
  timeoutMs = 60_000,
): Promise<ServerProcess> {
  const args = [
    'serve',
    '--config',
    options.config,
    '--db',
    options.db,
    '--log',
    'json',
    ...(options.durability ? ['--durability', options.durability] : []),
  ];
  const execArgv = [
    ...process.execArgv,
    ...(options.preload ?? []).flatMap((module) => ['--import', module]),
  ];
  const fd = openSync(options.log, 'a');
  let child: ChildProcess;
  try {
    child = options.ipc
      ? fork(CLI, args, { execArgv, stdio: ['ignore', 'ignore', fd, 'ipc'] })
      : spawn(process.execPath, [...execArgv, CLI, ...args], { stdio: ['ignore', 'ignore', fd] });
  } finally {
    closeSync(fd);
  }
  const readLog = () => (existsSync(options.log) ? readFileSync(options.log, 'utf8') : '');
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  child.once('exit', () => (exited = true));
  for (;;) {
    const log = readLog();
    if (ready(log)) break;
    if (exited) throw failure('the gateway', 'exited before it was ready', log);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw failure('the gateway', `was not ready within ${timeoutMs / 1000} s`, log);
    }
    await sleep(50);
  }
  return { pid: child.pid!, port: 0, note: '', child, stop: stopper(child) };
}

/** JSON log lines of `serve --log json`, skipping any that are not JSON. */
export function logRecords(log: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of log.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // A line being written while it was read.
    }
  }
  return out;
}

/** The latest state each instrument reported in the log. */
export function linkStates(log: string): Map<string, string> {
  const states = new Map<string, string>();
  for (const record of logRecords(log)) {
    if (record.kind === 'status' && typeof record.instrumentId === 'string') {
      states.set(record.instrumentId, String(record.state));
    }
  }
  return states;
}

/** No reply came in time: the process is in an unknown state. */
export class ChannelTimeout extends Error {}

/**
 * A child process's IPC channel: commands out, replies read in order by type. A `failed` reply
 * `{ type: 'failed', error }` makes the wait for any other throw.
 */
export class Channel<Command, Reply extends { type: string }> {
  private readonly replies: Reply[] = [];
  private waiting: (() => void) | null = null;
  private exit: string | null = null;

  constructor(readonly child: ChildProcess) {
    child.on('message', (reply: Reply) => {
      this.replies.push(reply);
      this.waiting?.();
    });
    child.on('exit', (code, signal) => {
      this.exit = `exited (${signal ?? `code ${code}`})`;
      this.waiting?.();
    });
  }

  send(command: Command): void {
    if (this.child.connected) this.child.send(command as object);
  }

  /** Waits for the process to exit by itself, killing it after `graceMs`. */
  async exited(graceMs: number): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** The next reply of type `type` (others before it are dropped). */
  async next<T extends Reply['type']>(
    type: T,
    timeoutMs: number,
  ): Promise<Extract<Reply, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const reply = this.replies.shift();
      if (reply?.type === type) return reply as Extract<Reply, { type: T }>;
      if (reply?.type === 'failed') throw new Error(String((reply as { error?: unknown }).error));
      if (reply) continue;
      if (this.exit) throw new Error(`waiting for "${type}": the process ${this.exit}`);
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new ChannelTimeout(`no "${type}" within ${Math.round(timeoutMs / 1000)} s`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiting = () => {
          clearTimeout(timer);
          this.waiting = null;
          resolve();
        };
      });
    }
  }
}
