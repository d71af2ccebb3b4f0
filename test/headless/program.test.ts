/**
 * The compiled `lab-gateway` program run the way a service manager or an integrator's script
 * runs it: by its own file (shebang and executable bit), with the exit code as the verdict.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { builtinModules } from 'node:module';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runSimulator } from '../../src-main/simulator/simulator';
import { openStore } from '../../src-main/store/store';
import { builtProgram, repoRoot } from '../support/built-program';
import { freePort, waitFor } from '../support/ports';
import { tempDir } from '../support/temp';

let program = '';
beforeAll(async () => {
  program = await builtProgram();
}, 60_000);

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(args: string[]): Running {
  const child = spawn(program, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve({ code, signal }));
    },
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** The exit of a process told to stop; a process that stays is a failure, with its log. */
async function stopped(running: Running, signal: NodeJS.Signals) {
  running.child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`still running 20 s after ${signal}:\n${running.stderr()}`)),
      20_000,
    );
  });
  try {
    return await Promise.race([running.exited, stuck]);
  } finally {
    clearTimeout(timer);
  }
}

async function run(args: string[]) {
  const running = start(args);
  const { code } = await running.exited;
  return { code, stdout: running.stdout(), stderr: running.stderr() };
}

/** The JSON log records `serve --log json` has written so far. */
function records(running: Running): Record<string, unknown>[] {
  return running
    .stderr()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Every file Node loads before the entry runs: the entry and what it imports statically. */
function staticallyLoaded(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const code = readFileSync(file, 'utf8');
    // Static imports start a line in esbuild's output; import("…") calls have no space.
    for (const [, specifier] of code.matchAll(/^import\s+(?:[^'"]*?\s*from\s*)?"([^"]+)"/gm)) {
      if (specifier!.startsWith('.')) visit(path.resolve(path.dirname(file), specifier!));
      else packages.add(specifier!);
    }
  };
  visit(entry);
  return { files: [...files], packages: [...packages] };
}

/** The source files a built file was made from, read from its source map. */
function sourcesOf(file: string): string[] {
  const map = JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sources: string[] };
  return map.sources.map((source) =>
    path
      .relative(repoRoot, path.resolve(path.dirname(file), source))
      .split(path.sep)
      .join('/'),
  );
}

describe('the lab-gateway program', () => {
  it('prints the usage on stdout for --help and exits 0', async () => {
    const result = await run(['--help']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('Usage:');
    expect(result.stdout).toContain('lab-gateway serve --config FILE --db FILE');
  });

  it('answers an unknown command with exit 2 and names it on stderr', async () => {
    const result = await run(['frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('Unknown command "frobnicate"');
  });

  it('loads only its own argument handling for --help: no zod, no SQLite, no gateway', () => {
    const { files, packages } = staticallyLoaded(program);
    const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
    expect(packages.filter((name) => !builtins.has(name))).toEqual([]);
    expect(files.flatMap(sourcesOf).sort()).toEqual([
      'src-main/headless/cli-support.ts',
      'src-main/headless/cli.ts',
      'src-main/headless/main.ts',
    ]);
  });

  it('serve with no link and no web UI still waits for its stop signal, then exits 0', async () => {
    const temp = tempDir();
    try {
      const configFile = path.join(temp.dir, 'gateway.json');
      writeFileSync(configFile, JSON.stringify({ instruments: [] }));
      const dbFile = path.join(temp.dir, 'gateway.sqlite');
      const serve = start(['serve', '--config', configFile, '--db', dbFile, '--log', 'json']);
      await waitFor(
        () => records(serve).some((r) => r.kind === 'ready') || serve.child.exitCode !== null,
        'the ready line',
        20_000,
      );
      expect(await stopped(serve, 'SIGTERM'), serve.stderr()).toEqual({ code: 0, signal: null });
      expect(records(serve).map((r) => r.kind)).toEqual(['ready', 'stopping', 'stopped']);
    } finally {
      temp.remove();
    }
  });

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'serve stops on %s with links and database closed, exit 0',
    async (signal) => {
      const temp = tempDir();
      try {
        const [hl7Port, astmPort] = [await freePort(), await freePort()];
        const configFile = path.join(temp.dir, 'gateway.json');
        const dbFile = path.join(temp.dir, 'gateway.sqlite');
        writeFileSync(
          configFile,
          JSON.stringify({
            instruments: [
              { id: 'hl7', protocol: 'hl7', mode: 'server', host: '127.0.0.1', port: hl7Port },
              { id: 'astm', protocol: 'astm', mode: 'server', host: '127.0.0.1', port: astmPort },
            ],
          }),
        );
        const serve = start(['serve', '--config', configFile, '--db', dbFile, '--log', 'json']);
        await waitFor(
          () =>
            records(serve).filter((r) => r.kind === 'status' && r.state === 'listening').length ===
              2 || serve.child.exitCode !== null,
          'both links listening',
          20_000,
        );
        expect(serve.child.exitCode, serve.stderr()).toBeNull();
        // A stored message leaves SQLite's write-ahead log behind until the database is closed.
        const sent = await runSimulator({
          protocol: 'hl7',
          target: { connect: { host: '127.0.0.1', port: hl7Port } },
          messages: 1,
          results: 2,
        });
        expect(sent.acked).toBe(1);

        expect(await stopped(serve, signal), serve.stderr()).toEqual({ code: 0, signal: null });

        const log = records(serve);
        const stopping = log.findIndex((r) => r.kind === 'stopping');
        expect(log[stopping]).toEqual({ kind: 'stopping', signal });
        const closed = log
          .slice(stopping)
          .filter((r) => r.kind === 'status' && r.reason === 'stopped')
          .map((r) => r.instrumentId)
          .sort();
        expect(closed).toEqual(['astm', 'hl7']);
        expect(log.at(-1)).toEqual({ kind: 'stopped' });
        // The last connection to close checkpoints the log into the file and removes it.
        expect(existsSync(`${dbFile}-wal`)).toBe(false);
        expect(existsSync(`${dbFile}-shm`)).toBe(false);
        const store = openStore({ file: dbFile, readonly: true });
        try {
          expect([...store.messagesForCli({})]).toHaveLength(1);
        } finally {
          store.close();
        }
      } finally {
        temp.remove();
      }
    },
    60_000,
  );
});
