import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { CommandName, CommandResult } from '../../src-shared/contract';
import {
  CONTENT_SECURITY_POLICY,
  DownloadRegistry,
  isLoopbackHost,
  parseWebAddress,
  startWebServer,
  webBindProblem,
  type WebServer,
  type WebServerOptions,
} from '../../src-main/headless/web';
import { CSV_BOM, CSV_COLUMNS, planExport } from '../../src-main/service/exports';
import type { CommandService, ServiceEvent } from '../../src-main/service/types';
import type {
  MessageDetail,
  MessageFilter,
  MessageSummary,
  Page,
} from '../../src-main/store/types';
import { waitFor } from '../support/ports';
import { tempDir } from '../support/temp';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const INDEX_HTML =
  '<!doctype html><title>Lab Gateway</title><script src="/assets/app.js"></script>';
const APP_JS = 'console.log("app");';
const SECRET = 'top secret, outside the UI folder';

interface Call {
  command: string;
  payload: unknown;
  resolve: (result: CommandResult<CommandName>) => void;
}

/** A CommandService whose calls the test answers by hand, and whose events it emits. */
function fakeService() {
  const listeners = new Set<(event: ServiceEvent) => void>();
  const calls: Call[] = [];
  const service: CommandService = {
    dispatch: (command, payload) =>
      new Promise((resolve) => {
        calls.push({
          command,
          payload,
          resolve: resolve as (result: CommandResult<CommandName>) => void,
        });
      }),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  const emit = (event: ServiceEvent) => {
    for (const listener of listeners) listener(event);
  };
  return { service, calls, emit, listeners };
}

/** A built UI in a temporary folder, with a secret file beside it that must never be served. */
function uiFolder(): string {
  const temp = tempDir();
  cleanups.push(temp.remove);
  const ui = path.join(temp.dir, 'renderer');
  mkdirSync(path.join(ui, 'assets'), { recursive: true });
  writeFileSync(path.join(ui, 'index.html'), INDEX_HTML);
  writeFileSync(path.join(ui, 'assets', 'app.js'), APP_JS);
  writeFileSync(path.join(ui, 'assets', 'app.css'), 'body { color: black; }');
  writeFileSync(path.join(ui, 'assets', 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(path.join(ui, '.env'), SECRET);
  writeFileSync(path.join(temp.dir, 'secret.txt'), SECRET);
  symlinkSync(path.join(temp.dir, 'secret.txt'), path.join(ui, 'assets', 'linked.txt'));
  return ui;
}

async function start(
  options: Partial<WebServerOptions> = {},
): Promise<{ server: WebServer; fake: ReturnType<typeof fakeService>; notes: string[] }> {
  const fake = fakeService();
  const notes: string[] = [];
  const server = await startWebServer({
    host: '127.0.0.1',
    port: 0,
    service: fake.service,
    staticDir: options.staticDir ?? uiFolder(),
    log: (line) => notes.push(line),
    ...options,
  });
  cleanups.push(() => server.close());
  return { server, fake, notes };
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A raw GET: the path goes on the wire exactly as written, without URL normalization. */
function request(
  port: number,
  rawPath: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: rawPath, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

type Incoming = { type: string; id?: unknown; result?: unknown; name?: string; payload?: unknown };

/** A WebSocket client that keeps every message it received, for `next()` to search. */
class Client {
  readonly received: Incoming[] = [];
  closeCode: number | null = null;

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => this.received.push(JSON.parse(String(data)) as Incoming));
    socket.on('close', (code) => {
      this.closeCode = code;
    });
  }

  async next(match: (message: Incoming) => boolean, what: string): Promise<Incoming> {
    let found: Incoming | undefined;
    await waitFor(() => (found = this.received.find(match)) !== undefined, what, 5_000, 5);
    return found!;
  }

  call(id: unknown, command: string, payload: unknown = {}): void {
    this.socket.send(JSON.stringify({ type: 'call', id, command, payload }));
  }

  result(id: unknown): Promise<Incoming> {
    return this.next((m) => m.type === 'result' && m.id === id, `the result of call ${id}`);
  }
}

/** Opens a socket; resolves with the client, or with the HTTP status that refused it. */
function connect(
  port: number,
  options: WebSocket.ClientOptions = {},
  urlPath = '/ws',
): Promise<Client | number> {
  return new Promise((resolve, reject) => {
    const origin = `http://127.0.0.1:${port}`;
    const socket = new WebSocket(`ws://127.0.0.1:${port}${urlPath}`, { origin, ...options });
    socket.once('open', () => {
      const client = new Client(socket);
      cleanups.push(() => socket.terminate());
      resolve(client);
    });
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('error', reject);
  });
}

async function connected(port: number, options: WebSocket.ClientOptions = {}): Promise<Client> {
  const client = await connect(port, options);
  if (typeof client === 'number') throw new Error(`WebSocket refused with ${client}`);
  return client;
}

describe('static files', () => {
  it('serves index.html at / with the security headers, never cached', async () => {
    const { server } = await start();
    const reply = await request(server.port, '/');
    expect(reply.status).toBe(200);
    expect(reply.body).toBe(INDEX_HTML);
    expect(reply.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(reply.headers['cache-control']).toBe('no-store');
    expect(reply.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("object-src 'none'");
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/script-src[^;]*unsafe/);
    expect(reply.headers['x-content-type-options']).toBe('nosniff');
    expect(reply.headers['referrer-policy']).toBe('no-referrer');
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
  });

  it('serves assets with their content types and revalidates them by ETag', async () => {
    const { server } = await start();
    const js = await request(server.port, '/assets/app.js');
    expect(js.status).toBe(200);
    expect(js.body).toBe(APP_JS);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect((await request(server.port, '/assets/app.css')).headers['content-type']).toBe(
      'text/css; charset=utf-8',
    );
    expect((await request(server.port, '/assets/logo.svg')).headers['content-type']).toBe(
      'image/svg+xml',
    );
    const again = await request(server.port, '/assets/app.js', {
      'If-None-Match': String(js.headers.etag),
    });
    expect(again.status).toBe(304);
    const head = await request(server.port, '/assets/app.js', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(APP_JS.length));
    expect(head.body).toBe('');
  });

  it("answers the app's own routes with index.html and unknown files with 404", async () => {
    const { server } = await start();
    for (const route of ['/history', '/instruments/chem1', '/history?search=S1']) {
      const reply = await request(server.port, route);
      expect(reply.status, route).toBe(200);
      expect(reply.body, route).toBe(INDEX_HTML);
    }
    expect((await request(server.port, '/assets/missing.js')).status).toBe(404);
    expect((await request(server.port, '/favicon.ico')).status).toBe(404);
    expect((await request(server.port, '/assets')).body).not.toBe(APP_JS);
  });

  it('never serves a file outside the UI folder, nor hidden files', async () => {
    const { server } = await start();
    const attempts = [
      '/..%2fsecret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/%2e%2e%2fsecret.txt',
      '/..%5csecret.txt',
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/assets/linked.txt',
      '/.env',
      '/%00',
      '/%E0%A4%A',
    ];
    for (const attempt of attempts) {
      const reply = await request(server.port, attempt);
      expect(reply.body, attempt).not.toContain(SECRET);
      expect(reply.body, attempt).not.toContain('root:');
      expect([400, 404, 200], attempt).toContain(reply.status);
      if (reply.status === 200) expect(reply.body, attempt).toBe(INDEX_HTML);
    }
    expect((await request(server.port, '/..%2fsecret.txt')).status).toBe(400);
    expect((await request(server.port, '/assets/linked.txt')).status).toBe(400);
  });

  it('explains that the UI is not built when the folder is missing', async () => {
    const temp = tempDir();
    cleanups.push(temp.remove);
    const { server } = await start({ staticDir: path.join(temp.dir, 'dist', 'renderer') });
    for (const route of ['/', '/assets/app.js', '/history']) {
      const reply = await request(server.port, route);
      expect(reply.status, route).toBe(503);
      expect(reply.body).toContain('The UI is not built: run npm run build');
      expect(reply.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    }
  });

  it('accepts only GET and HEAD, and keeps /ws for WebSocket', async () => {
    const { server } = await start();
    const post = await request(server.port, '/', {}, 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    expect((await request(server.port, '/ws')).status).toBe(426);
  });

  it('answers only to loopback Host names when bound to loopback without a token', async () => {
    const { server } = await start();
    expect((await request(server.port, '/', { Host: 'evil.example:80' })).status).toBe(403);
    expect((await request(server.port, '/', { Host: `localhost:${server.port}` })).status).toBe(
      200,
    );
    const rebound = await connect(server.port, {
      headers: { Host: `evil.example:${server.port}` },
      origin: `http://evil.example:${server.port}`,
    });
    expect(rebound).toBe(403);
  });
});

describe('WebSocket bridge', () => {
  it('passes calls to the service and answers each by its id, several in flight', async () => {
    const { server, fake } = await start();
    const client = await connected(server.port);
    client.call(1, 'listInstruments');
    client.call(2, 'getInstrument', { id: 'chem1' });
    client.call('three', 'getStats');
    await waitFor(() => fake.calls.length === 3, 'three calls at the service');
    expect(fake.calls.map((c) => [c.command, c.payload])).toEqual([
      ['listInstruments', {}],
      ['getInstrument', { id: 'chem1' }],
      ['getStats', {}],
    ]);
    // Answered in the reverse order: each answer still finds its call.
    fake.calls[2]!.resolve({ ok: true, value: 'third' as never });
    fake.calls[1]!.resolve({ ok: false, error: { code: 'NOT_FOUND', message: 'no chem1' } });
    fake.calls[0]!.resolve({ ok: true, value: [] });
    expect((await client.result('three')).result).toEqual({ ok: true, value: 'third' });
    expect((await client.result(2)).result).toEqual({
      ok: false,
      error: { code: 'NOT_FOUND', message: 'no chem1' },
    });
    expect((await client.result(1)).result).toEqual({ ok: true, value: [] });
    const order = client.received.filter((m) => m.type === 'result').map((m) => m.id);
    expect(order).toEqual(['three', 2, 1]);
  });

  it('answers bad messages with coded errors and keeps the connection', async () => {
    const { server, fake } = await start({ limits: { maxMessageBytes: 4096 } });
    const client = await connected(server.port);
    client.call(1, 'dropDatabase');
    expect((await client.result(1)).result).toMatchObject({
      ok: false,
      error: { code: 'UNKNOWN_COMMAND', message: 'unknown command "dropDatabase"' },
    });
    client.call(2, 'toString');
    expect((await client.result(2)).result).toMatchObject({ error: { code: 'UNKNOWN_COMMAND' } });
    client.socket.send('this is not JSON');
    expect(
      await client.next((m) => m.type === 'error', 'the error for a message that is not JSON'),
    ).toMatchObject({ error: { code: 'WS_NOT_JSON' } });
    client.socket.send(JSON.stringify({ type: 'call', command: 'listInstruments' }));
    await client.next(
      (m) => m.type === 'error' && JSON.stringify(m).includes('WS_BAD_MESSAGE'),
      'the error for a call without an id',
    );
    client.socket.send(JSON.stringify({ type: 'subscribe', id: 3 }));
    expect((await client.result(3)).result).toMatchObject({ error: { code: 'WS_BAD_MESSAGE' } });
    client.call(4, 'createInstrument', { config: { notes: 'x'.repeat(5000) } });
    expect((await client.result(4)).result).toMatchObject({
      ok: false,
      error: { code: 'REQUEST_TOO_LARGE' },
    });
    expect(fake.calls).toHaveLength(0);
    // Still usable.
    client.call(5, 'listInstruments');
    await waitFor(() => fake.calls.length === 1, 'the good call at the service');
    fake.calls[0]!.resolve({ ok: true, value: [] });
    expect((await client.result(5)).result).toEqual({ ok: true, value: [] });
  });

  it('closes a connection that sends a frame far over the limit, without harm to others', async () => {
    const { server, fake } = await start({ limits: { maxMessageBytes: 1024 } });
    const rude = await connected(server.port);
    const polite = await connected(server.port);
    rude.socket.send('x'.repeat(64 * 1024));
    await waitFor(() => rude.closeCode !== null, 'the oversized connection closed');
    expect(rude.closeCode).toBe(1009);
    polite.call(1, 'listInstruments');
    await waitFor(() => fake.calls.length === 1, 'the call at the service');
    fake.calls[0]!.resolve({ ok: true, value: [] });
    expect((await polite.result(1)).result).toEqual({ ok: true, value: [] });
  });

  it('limits the calls of one browser in flight', async () => {
    const { server, fake } = await start({ limits: { maxCallsInFlight: 2 } });
    const client = await connected(server.port);
    for (const id of [1, 2, 3]) client.call(id, 'listInstruments');
    expect((await client.result(3)).result).toMatchObject({ error: { code: 'TOO_MANY_CALLS' } });
    expect(fake.calls).toHaveLength(2);
  });

  it('sends every service event to every open socket', async () => {
    const { server, fake } = await start();
    const first = await connected(server.port);
    const second = await connected(server.port);
    expect(fake.listeners.size).toBe(1);
    fake.emit({ name: 'instrumentRemoved', payload: { id: 'chem1' } });
    for (const client of [first, second]) {
      expect(await client.next((m) => m.type === 'event', 'the event')).toEqual({
        type: 'event',
        name: 'instrumentRemoved',
        payload: { id: 'chem1' },
      });
    }
  });

  it('refuses a handshake from another site, and other paths', async () => {
    const { server } = await start();
    expect(await connect(server.port, { origin: 'http://evil.example' })).toBe(403);
    expect(await connect(server.port, { origin: 'null' })).toBe(403);
    expect(await connect(server.port, { origin: `http://127.0.0.1:${server.port + 1}` })).toBe(403);
    expect(await connect(server.port, {}, '/socket')).toBe(404);
    expect(typeof (await connect(server.port))).toBe('object');
  });

  it('drops a browser that stops answering pings', async () => {
    const { server, notes } = await start({ limits: { heartbeatMs: 100 } });
    const dead = await connected(server.port, { autoPong: false });
    const alive = await connected(server.port);
    await waitFor(() => dead.closeCode !== null, 'the silent socket dropped');
    expect(notes.join('\n')).toContain('stopped answering pings');
    expect(alive.closeCode).toBeNull();
  });

  it('drops a browser that cannot keep up instead of buffering for it', async () => {
    const { server, fake, notes } = await start({ limits: { maxBufferedBytes: 256 * 1024 } });
    const slow = await connected(server.port);
    const fast = await connected(server.port);
    const socket = (slow.socket as unknown as { _socket: net.Socket })._socket;
    socket.pause();
    const big = { name: 'instrumentRemoved', payload: { id: 'x'.repeat(64 * 1024) } } as const;
    await waitFor(
      () => {
        fake.emit(big);
        return notes.some((n) => n.includes('fell behind'));
      },
      'the slow browser dropped',
      10_000,
      1,
    );
    socket.resume();
    await waitFor(() => slow.closeCode !== null, 'the slow socket closed');
    expect(fast.closeCode).toBeNull();
    await fast.next((m) => m.type === 'event', 'events still reach the fast browser');
  });

  it('closes every socket and the port on close()', async () => {
    const { server, fake } = await start();
    const client = await connected(server.port);
    await server.close();
    await waitFor(() => client.closeCode !== null, 'the socket closed');
    expect(client.closeCode).toBe(1001);
    expect(fake.listeners.size).toBe(0);
    await expect(request(server.port, '/')).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('starting', () => {
  it('reports a port in use in plain words', async () => {
    const { server } = await start();
    await expect(
      startWebServer({
        host: '127.0.0.1',
        port: server.port,
        service: fakeService().service,
        staticDir: 'dist/renderer',
      }),
    ).rejects.toMatchObject({ code: 'WEB_PORT_IN_USE', message: /already in use/ });
  });

  it('refuses an address other machines can reach without a token', async () => {
    await expect(
      startWebServer({
        host: '0.0.0.0',
        port: 0,
        service: fakeService().service,
        staticDir: 'dist/renderer',
      }),
    ).rejects.toMatchObject({ code: 'WEB_TOKEN_REQUIRED', message: /--token/ });
  });
});

describe('the bind decision', () => {
  it('tells loopback addresses from the others', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]']) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of [
      '0.0.0.0',
      '::',
      '192.168.1.20',
      '10.0.0.1',
      'lab-server',
      'localhost.evil.example',
      '128.0.0.1',
      '::2',
    ]) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });

  it('asks for a token beyond loopback only', () => {
    expect(webBindProblem('127.0.0.1', undefined)).toBeNull();
    expect(webBindProblem('localhost', 'secret')).toBeNull();
    expect(webBindProblem('0.0.0.0', 'secret')).toBeNull();
    expect(webBindProblem('0.0.0.0', undefined)).toMatch(/needs an access token.*--token/);
    expect(webBindProblem('192.168.1.20', undefined)).toMatch(/--token/);
    expect(webBindProblem('127.0.0.1', '')).toMatch(/must not be empty/);
  });

  it('reads HOST:PORT', () => {
    expect(parseWebAddress('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseWebAddress('8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseWebAddress('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseWebAddress('0.0.0.0:443')).toEqual({ host: '0.0.0.0', port: 443 });
    for (const bad of ['', 'host:', ':80', 'host:port', 'host:70000', '::1', 'a:-1']) {
      expect(parseWebAddress(bad), bad).toBeNull();
    }
  });
});

describe('with an access token', () => {
  const TOKEN = 'correct horse battery staple';

  async function startWithToken(host = '127.0.0.1') {
    return start({ host, token: TOKEN });
  }

  it('shows only the sign-in page without the token: no page, no asset, no WebSocket', async () => {
    const { server } = await startWithToken();
    for (const route of ['/', '/assets/app.js', '/history', '/ws']) {
      const reply = await request(server.port, route);
      expect(reply.status, route).toBe(401);
      expect(reply.body, route).not.toContain(APP_JS);
      expect(reply.body, route).not.toContain(INDEX_HTML);
      expect(reply.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    }
    const page = (await request(server.port, '/')).body;
    expect(page).toMatch(/<form method="get" action="\/">/);
    expect(page).toMatch(/<label for="token">Access token<\/label>/);
    expect(page).toMatch(/<input id="token" name="token" type="password"/);
    expect(page).not.toMatch(/<script/);
    expect(await connect(server.port)).toBe(401);
  });

  it('refuses a wrong token however it comes', async () => {
    const { server, fake } = await startWithToken();
    const wrong = await request(server.port, '/?token=guess');
    expect(wrong.status).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    expect(wrong.body).toContain('not right');
    const cookieName = `labgw_session_${server.port}`;
    expect((await request(server.port, '/', { Cookie: `${cookieName}=forged` })).status).toBe(401);
    expect((await request(server.port, '/', { Authorization: 'Bearer guess' })).status).toBe(401);
    expect(await connect(server.port, {}, '/ws?token=guess')).toBe(401);
    expect(await connect(server.port, { headers: { Cookie: `${cookieName}=forged` } })).toBe(401);
    expect(fake.calls).toHaveLength(0);
  });

  it('trades the right token for a session cookie, then serves pages, assets and calls', async () => {
    const { server, fake } = await startWithToken();
    const login = await request(
      server.port,
      `/history?search=S1&token=${encodeURIComponent(TOKEN)}`,
    );
    expect(login.status).toBe(303);
    expect(login.headers.location).toBe('/history?search=S1');
    const setCookie = login.headers['set-cookie']?.[0] ?? '';
    expect(setCookie).toMatch(new RegExp(`^labgw_session_${server.port}=[^;]+; `));
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain('Path=/');
    expect(setCookie).not.toContain(TOKEN);
    const cookie = setCookie.split(';')[0]!;

    const page = await request(server.port, '/history?search=S1', { Cookie: cookie });
    expect(page.status).toBe(200);
    expect(page.body).toBe(INDEX_HTML);
    const asset = await request(server.port, '/assets/app.js', { Cookie: `a=b; ${cookie}` });
    expect(asset.status).toBe(200);
    expect(asset.body).toBe(APP_JS);

    const client = await connected(server.port, { headers: { Cookie: cookie } });
    client.call(1, 'listInstruments');
    await waitFor(() => fake.calls.length === 1, 'the call at the service');
    fake.calls[0]!.resolve({ ok: true, value: [] });
    expect((await client.result(1)).result).toEqual({ ok: true, value: [] });
  });

  it('lets scripts present the token as a bearer header', async () => {
    const { server } = await startWithToken();
    const auth = { Authorization: `Bearer ${TOKEN}` };
    expect((await request(server.port, '/assets/app.js', auth)).status).toBe(200);
    expect(typeof (await connect(server.port, { headers: auth }))).toBe('object');
  });

  it('serves every address of the machine once a token is set', async () => {
    const { server } = await startWithToken('0.0.0.0');
    expect(server.url).toBe(`http://0.0.0.0:${server.port}`);
    expect((await request(server.port, '/')).status).toBe(401);
    const other = { Host: `lab-server.example:${server.port}`, Authorization: `Bearer ${TOKEN}` };
    expect((await request(server.port, '/', other)).status).toBe(200);
  });

  it('never redirects to another site', async () => {
    const { server } = await startWithToken();
    const reply = await request(server.port, `//evil.example/?token=${encodeURIComponent(TOKEN)}`);
    expect(reply.status).toBe(303);
    expect(reply.headers.location).toBe('/evil.example/');
  });
});

/**
 * A history of `total` messages with one result each, made up as they are read: `read` counts
 * the messages the export has taken so far, to see how far it got ahead of the browser.
 */
function syntheticHistory(total: number, rawBytes = 16) {
  const state = { read: 0 };
  const summary = (id: number) => ({ id }) as MessageSummary;
  const reader = {
    queryMessages(filter: MessageFilter = {}): Page<MessageSummary> {
      const start = filter.cursor ? Number(filter.cursor) : 0;
      const end = Math.min(total, start + (filter.limit ?? 50));
      const items = Array.from({ length: end - start }, (_, i) => summary(start + i + 1));
      return { items, nextCursor: end < total ? String(end) : null };
    },
    getMessage(id: number): MessageDetail {
      state.read++;
      const value = id % 100 === 0 ? `=HYPERLINK("http://x/${id}")` : `${id}.5`;
      return {
        ...summary(id),
        instrumentId: 'chem1',
        protocol: 'hl7',
        receivedAt: Date.UTC(2026, 10, 26) + id * 1000,
        raw: Buffer.alloc(rawBytes, id % 256),
        results: [
          {
            sampleId: `S${id}`,
            patientId: `P${id}`,
            testCode: 'GLU',
            value,
            units: 'mmol/L',
            flags: null,
            status: 'F',
            observedAt: null,
          },
        ],
      } as MessageDetail;
    },
  };
  return { reader, state };
}

/** The body of a GET as bytes, with the status and headers. */
function download(
  port: number,
  urlPath: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: urlPath, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

describe('export downloads', () => {
  const NOW = Date.UTC(2026, 10, 26, 9, 30);

  async function startWithDownloads(options: Partial<WebServerOptions> = {}) {
    const downloads = new DownloadRegistry();
    const started = await start({ downloads, ...options });
    return { ...started, downloads };
  }

  it('streams an export of thousands of messages once, then answers 404 in plain words', async () => {
    const { server, downloads } = await startWithDownloads();
    const history = syntheticHistory(3_000);
    const answer = downloads.register(
      planExport(history.reader, {}, 'csv', 100_000, NOW, { timeZone: 'UTC' }),
    );
    expect(history.state.read).toBe(0);

    const first = await download(server.port, answer.downloadUrl!);
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(first.headers['content-disposition']).toBe(
      `attachment; filename="results-2026-11-26-09-30-00.csv"; filename*=UTF-8''results-2026-11-26-09-30-00.csv`,
    );
    expect(first.headers['cache-control']).toBe('no-store');
    expect(first.headers['x-content-type-options']).toBe('nosniff');
    const rows = first.body.toString('utf8').trimEnd().split('\r\n');
    expect(rows[0]).toBe(CSV_BOM + CSV_COLUMNS.join(','));
    expect(rows).toHaveLength(3_001);
    expect(rows.slice(1).map((row) => Number(row.split(',')[0]))).toEqual(
      Array.from({ length: 3_000 }, (_, i) => i + 1),
    );
    expect(rows[1]).toBe('1,chem1,chem1,2026-11-26T00:00:01+00:00,S1,P1,GLU,1.5,mmol/L,,,F,,');
    // Formula-looking values stay harmless in the streamed file.
    expect(rows[100]).toContain(`,"'=HYPERLINK(""http://x/100"")",`);

    const second = await download(server.port, answer.downloadUrl!);
    expect(second.status).toBe(404);
    expect(second.body.toString('utf8')).toContain(
      'this export is not here: it was downloaded already, or it expired; export again',
    );
    expect((await download(server.port, '/export/made-up')).status).toBe(404);
  });

  it('answers HEAD with the headers only, without using up the download', async () => {
    const { server, downloads } = await startWithDownloads();
    const history = syntheticHistory(4);
    const answer = downloads.register(planExport(history.reader, {}, 'csv', 10, NOW));
    const head = await request(server.port, answer.downloadUrl!, {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-disposition']).toMatch(/^attachment; filename="results-/);
    expect(head.body).toBe('');
    expect(history.state.read).toBe(0);
    const body = await download(server.port, answer.downloadUrl!);
    expect(body.body.toString('utf8').trimEnd().split('\r\n')).toHaveLength(5);
  });

  it('forgets an export that was not fetched in time', async () => {
    let now = NOW;
    const downloads = new DownloadRegistry({ clock: { now: () => now } });
    const { server } = await start({ downloads });
    const answer = downloads.register(planExport(syntheticHistory(3).reader, {}, 'json', 10, NOW));
    now += 60_000;
    const late = await download(server.port, answer.downloadUrl!);
    expect(late.status).toBe(404);
    expect(late.body.toString('utf8')).toContain('or it expired');
  });

  it('sends raw bytes and JSON as they are, with their own types', async () => {
    const { server, downloads } = await startWithDownloads();
    const raw = downloads.register(planExport(syntheticHistory(3, 4).reader, {}, 'raw', 10, NOW));
    const bytes = await download(server.port, raw.downloadUrl!);
    expect(bytes.headers['content-type']).toBe('application/octet-stream');
    // Each message in its MLLP block, so the capture replays as it was received.
    const block = (byte: number) => [0x0b, byte, byte, byte, byte, 0x1c, 0x0d];
    expect([...bytes.body]).toEqual([...block(1), ...block(2), ...block(3)]);
    const json = downloads.register(planExport(syntheticHistory(2).reader, {}, 'json', 10, NOW));
    const parsed = await download(server.port, json.downloadUrl!);
    expect(parsed.headers['content-type']).toBe('application/json; charset=utf-8');
    const messages = JSON.parse(parsed.body.toString('utf8')) as { id: number }[];
    expect(messages.map((m) => m.id)).toEqual([1, 2]);
  });

  it('keeps a download behind the token and the Host check, without using it up', async () => {
    const TOKEN = 'export token';
    const { server, downloads } = await startWithDownloads({ token: TOKEN });
    const answer = downloads.register(planExport(syntheticHistory(5).reader, {}, 'csv', 10, NOW));
    const refused = await download(server.port, answer.downloadUrl!);
    expect(refused.status).toBe(401);
    expect(refused.body.toString('utf8')).not.toContain('chem1');
    const forged = await download(server.port, answer.downloadUrl!, {
      Cookie: `labgw_session_${server.port}=forged`,
    });
    expect(forged.status).toBe(401);
    const allowed = await download(server.port, answer.downloadUrl!, {
      Authorization: `Bearer ${TOKEN}`,
    });
    expect(allowed.status).toBe(200);
    expect(allowed.body.toString('utf8').trimEnd().split('\r\n')).toHaveLength(6);

    const { server: local, downloads: localDownloads } = await startWithDownloads();
    const rebound = localDownloads.register(
      planExport(syntheticHistory(5).reader, {}, 'csv', 10, NOW),
    );
    const elsewhere = { Host: `rebound.example:${local.port}` };
    expect((await download(local.port, rebound.downloadUrl!, elsewhere)).status).toBe(403);
    expect((await download(local.port, rebound.downloadUrl!)).status).toBe(200);
  });

  it('reads the store only as fast as the browser takes the bytes', async () => {
    const { server, downloads } = await startWithDownloads();
    const total = 3_000;
    const history = syntheticHistory(total, 16 * 1024);
    const answer = downloads.register(planExport(history.reader, {}, 'raw', total, NOW));
    const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: server.port, path: answer.downloadUrl! }, resolve)
        .on('error', reject);
    });
    response.pause();
    // The browser reads nothing: the export stops once the socket buffers are full.
    let last = -1;
    let steady = 0;
    await waitFor(
      () => {
        steady = history.state.read === last ? steady + 1 : 0;
        last = history.state.read;
        return steady >= 20;
      },
      'the export to stop reading',
      15_000,
      20,
    );
    expect(history.state.read).toBeGreaterThan(0);
    expect(history.state.read).toBeLessThan(total / 2);

    let received = 0;
    response.on('data', (chunk: Buffer) => (received += chunk.length));
    const ended = new Promise((resolve) => response.on('end', resolve));
    response.resume();
    await ended;
    // MLLP adds three bytes to each message, except those already starting with its VT (id % 256 = 11).
    const alreadyFramed = Array.from({ length: total }, (_, i) => (i + 1) % 256 === 0x0b).filter(
      Boolean,
    ).length;
    expect(received).toBe(total * (16 * 1024 + 3) - alreadyFramed * 3);
    expect(history.state.read).toBe(total);
  });

  it('stops reading the store when the browser goes away mid-download', async () => {
    const { server, downloads, notes } = await startWithDownloads();
    const total = 3_000;
    const history = syntheticHistory(total, 16 * 1024);
    const answer = downloads.register(planExport(history.reader, {}, 'raw', total, NOW));
    await new Promise<void>((resolve) => {
      const request = http.get(
        { host: '127.0.0.1', port: server.port, path: answer.downloadUrl! },
        (response) => response.once('data', () => request.destroy()),
      );
      request.on('error', () => undefined);
      request.on('close', () => resolve());
    });
    await waitFor(
      () => notes.some((note) => note.includes('the browser closed the connection')),
      'the note about the download that stopped',
    );
    expect(history.state.read).toBeLessThan(total);
  });
});
