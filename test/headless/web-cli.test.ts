import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freePort, waitFor } from '../support/ports';
import { tempDir } from '../support/temp';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'src-main/headless/main.ts');

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

interface Running {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

function runCli(args: string[]): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdout!.resume();
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, stderr: () => stderr, exited };
}

async function lineMatching(running: Running, pattern: RegExp): Promise<RegExpMatchArray> {
  let match: RegExpMatchArray | null = null;
  await waitFor(
    () => (match = pattern.exec(running.stderr())) !== null || running.child.exitCode !== null,
    `a line matching ${pattern}`,
    20_000,
  );
  if (!match) throw new Error(`the command ended first:\n${running.stderr()}`);
  return match;
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/** Opens the bridge, makes one call, collects events meanwhile; closes when `until` says so. */
async function session(
  url: string,
  until: (state: { result: unknown; events: string[] }) => boolean,
  command = 'listInstruments',
): Promise<{ result: unknown; events: string[] }> {
  const socket = new WebSocket(`${url.replace('http:', 'ws:')}/ws`, { origin: url });
  cleanups.push(() => socket.terminate());
  const state: { result: unknown; events: string[] } = { result: undefined, events: [] };
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { type: string; name?: string; result?: unknown };
    if (message.type === 'result') state.result = message.result;
    else if (message.type === 'event') state.events.push(message.name!);
  });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  socket.send(JSON.stringify({ type: 'call', id: 1, command, payload: {} }));
  await waitFor(() => until(state), 'the answers over the WebSocket', 15_000);
  socket.close();
  return state;
}

function config(dir: string, port: number): string {
  const file = path.join(dir, 'gateway.json');
  writeFileSync(
    file,
    JSON.stringify({
      instruments: [
        {
          id: 'chem1',
          name: 'Chemistry',
          protocol: 'astm',
          mode: 'server',
          host: '127.0.0.1',
          port,
        },
      ],
    }),
  );
  return file;
}

describe('serve --web', () => {
  it('serves the UI and the contract until SIGTERM, then exits 0', async () => {
    const temp = tempDir();
    cleanups.push(temp.remove);
    const running = runCli([
      'serve',
      '--config',
      config(temp.dir, await freePort()),
      '--db',
      path.join(temp.dir, 'data.sqlite'),
      '--web',
      '127.0.0.1:0',
    ]);
    const [, url] = await lineMatching(running, /web UI at (http:\/\/127\.0\.0\.1:\d+)\n/);
    const page = await get(`${url}/`);
    if (page.status === 503) expect(page.body).toContain('The UI is not built');
    else expect(page.status).toBe(200);

    const { result } = await session(url!, (s) => s.result !== undefined);
    expect(result).toMatchObject({ ok: true, value: [{ id: 'chem1', protocol: 'astm' }] });

    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
    expect(running.stderr()).toContain('stopped');
  });

  it('prints a placeholder, never the token itself', async () => {
    const temp = tempDir();
    cleanups.push(temp.remove);
    const secret = 'do-not-print-me';
    const running = runCli([
      'serve',
      '--config',
      config(temp.dir, await freePort()),
      '--db',
      path.join(temp.dir, 'data.sqlite'),
      '--web',
      '127.0.0.1:0',
      '--token',
      secret,
    ]);
    const [, url] = await lineMatching(
      running,
      /web UI at (http:\/\/127\.0\.0\.1:\d+)\/\?token=<TOKEN>/,
    );
    expect((await get(`${url}/`)).status).toBe(401);
    expect(running.stderr()).not.toContain(secret);
    running.child.kill('SIGINT');
    expect(await running.exited).toBe(0);
  });

  it('refuses an address other machines can reach without --token: exit 2', async () => {
    const temp = tempDir();
    cleanups.push(temp.remove);
    const db = path.join(temp.dir, 'data.sqlite');
    const running = runCli([
      'serve',
      '--config',
      config(temp.dir, await freePort()),
      '--db',
      db,
      '--web',
      '0.0.0.0:8080',
    ]);
    expect(await running.exited).toBe(2);
    expect(running.stderr()).toMatch(/needs an access token: add --token SECRET/);
    expect(existsSync(db)).toBe(false);
  });

  it('reports a web port in use: exit 1', async () => {
    const temp = tempDir();
    cleanups.push(temp.remove);
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => taken.close(() => resolve())));
    const port = (taken.address() as net.AddressInfo).port;
    const running = runCli([
      'serve',
      '--config',
      config(temp.dir, await freePort()),
      '--db',
      path.join(temp.dir, 'data.sqlite'),
      '--web',
      `127.0.0.1:${port}`,
    ]);
    expect(await running.exited).toBe(1);
    expect(running.stderr()).toContain(`127.0.0.1:${port}: the port is already in use`);
  });
});

describe('demo', () => {
  it('runs two simulated analyzers behind the UI until Ctrl-C', async () => {
    const running = runCli(['demo', '--web', '127.0.0.1:0', '--interval-ms', '100']);
    const [, db] = await lineMatching(running, /database (\S+demo\.sqlite)\n/);
    const [, url] = await lineMatching(running, /Open (http:\/\/127\.0\.0\.1:\d+) in a browser\n/);
    const state = await session(
      url!,
      (s) => s.result !== undefined && s.events.includes('messagesStored'),
    );
    expect(state.result).toMatchObject({
      ok: true,
      value: [
        { id: 'demo-astm', protocol: 'astm', mode: 'server' },
        { id: 'demo-hl7', protocol: 'hl7', mode: 'client' },
      ],
    });
    running.child.kill('SIGINT');
    expect(await running.exited).toBe(0);
    expect(existsSync(db!)).toBe(false);
  });
});
