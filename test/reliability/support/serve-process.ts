/**
 * `gateway serve` as its own process, as the kill -9 test in test/headless runs it: the JSON log
 * on stderr is read line by line (and always drained, so a chatty gateway never blocks on it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const cli = path.join(repoRoot, 'src-main/headless/main.ts');

export type LogRecord = Record<string, unknown>;

export interface ServeOptions {
  configFile: string;
  dbFile: string;
  /** Server links to wait for ("listening") before resolving. */
  listeners: number;
  /** A command that runs serve, such as `prlimit --fsize=N: --`. */
  wrapper?: string[];
  startTimeoutMs?: number;
}

export class ServeProcess {
  readonly child: ChildProcess;
  /** The last lines of the log, for failure messages. */
  readonly tail: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly watchers = new Set<(record: LogRecord) => void>();

  private constructor(options: ServeOptions) {
    const args = [
      '--import',
      'tsx',
      cli,
      'serve',
      '--config',
      options.configFile,
      '--db',
      options.dbFile,
      '--log',
      'json',
    ];
    const [command, ...prefix] = options.wrapper ?? [process.execPath];
    const commandArgs = options.wrapper ? [...prefix, process.execPath, ...args] : args;
    this.child = spawn(command!, commandArgs, {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => resolve({ code, signal }));
      // A wrapper that is not installed (prlimit comes with util-linux) fails to start at all.
      this.child.once('error', (error) => {
        this.tail.push(`could not run ${command}: ${error.message}`);
        resolve({ code: null, signal: null });
      });
    });
    let partial = '';
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (text: string) => {
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.onLine(line);
    });
  }

  static async start(options: ServeOptions): Promise<ServeProcess> {
    const serve = new ServeProcess(options);
    let listening = 0;
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`serve did not start: ${serve.tail.join('\n')}`)),
        options.startTimeoutMs ?? 30_000,
      );
      const stop = serve.watch((record) => {
        if (record.kind === 'status' && record.state === 'listening') listening++;
        if (listening >= options.listeners) {
          clearTimeout(timer);
          stop();
          resolve();
        }
      });
      void serve.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(
          new Error(`serve exited (${code ?? signal}) while starting: ${serve.tail.join('\n')}`),
        );
      });
    });
    await ready;
    return serve;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Calls `watcher` with every later log record; returns the function that stops it. */
  watch(watcher: (record: LogRecord) => void): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  /** Resolves with the first later record that `match` accepts, or null after `ms`. */
  waitFor(match: (record: LogRecord) => boolean, ms: number): Promise<LogRecord | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        stop();
        resolve(null);
      }, ms);
      const stop = this.watch((record) => {
        if (!match(record)) return;
        clearTimeout(timer);
        stop();
        resolve(record);
      });
    });
  }

  async kill(
    signal: NodeJS.Signals,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }

  private onLine(line: string): void {
    if (line.trim() === '') return;
    this.tail.push(line);
    if (this.tail.length > 40) this.tail.shift();
    let record: LogRecord;
    try {
      record = JSON.parse(line) as LogRecord;
    } catch {
      record = { kind: 'text', message: line };
    }
    for (const watcher of [...this.watchers]) watcher(record);
  }
}
