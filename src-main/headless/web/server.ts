/**
 * The browser mode: serves the built renderer over HTTP and carries the command contract over a
 * WebSocket at /ws, to the same CommandService the Electron window uses.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import type { CommandService } from '../../service/types';
import { AccessGuard, hostAllowed, originAllowed } from './access';
import { urlHost, webBindProblem } from './bind-policy';
import { DOWNLOAD_PATH_PREFIX, type DownloadRegistry } from './downloads';
import { SECURITY_HEADERS, errorPage, loginPage, notBuiltPage } from './pages';
import { sendDownload } from './send-download';
import { DEFAULT_BRIDGE_LIMITS, SocketBridge, type BridgeLimits } from './socket-bridge';
import { resolveStatic, sendFile } from './static-files';

export interface WebServerOptions {
  host: string;
  /** 0: any free port. */
  port: number;
  /** Required unless `host` is loopback; every request must then present it. */
  token?: string;
  service: CommandService;
  /** The built renderer: index.html and its assets. */
  staticDir: string;
  /** Exports waiting at `/export/<id>`; without it that address is not found. */
  downloads?: DownloadRegistry;
  limits?: Partial<BridgeLimits>;
  /** Plain-language notes: browsers dropped, failures. */
  log?: (line: string) => void;
}

export interface WebServer {
  /** `http://HOST:PORT`, without any token. */
  url: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

/** Why the web server could not start, coded, in plain words. */
export class WebServerError extends Error {
  override name = 'WebServerError';
  constructor(
    readonly code: 'WEB_TOKEN_REQUIRED' | 'WEB_PORT_IN_USE' | 'WEB_LISTEN_FAILED',
    message: string,
  ) {
    super(message);
  }
}

export const WEBSOCKET_PATH = '/ws';

export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const refusal = webBindProblem(options.host, options.token);
  if (refusal) throw new WebServerError('WEB_TOKEN_REQUIRED', refusal);
  const log = options.log ?? (() => {});
  const staticDir = path.resolve(options.staticDir);
  const limits = { ...DEFAULT_BRIDGE_LIMITS, ...options.limits };
  const loopbackOnly = options.token === undefined;

  const server = http.createServer();
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  const port = await listen(server, options.host, options.port);
  const guard = new AccessGuard(options.token, port);
  const bridge = new SocketBridge(options.service, limits, log);
  const context: RequestContext = {
    staticDir,
    guard,
    loopbackOnly,
    downloads: options.downloads ?? null,
    log,
  };

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    handleRequest(request, response, context).catch((error: unknown) => {
      log(`web request failed: ${String(error)}`);
      if (!response.headersSent) sendPage(response, 500, errorPage(500, 'internal error'));
      else response.destroy();
    });
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const refused = upgradeRefusal(request, guard, loopbackOnly, bridge.hasRoom);
    if (refused) {
      abortUpgrade(socket, refused.status, refused.words);
      return;
    }
    bridge.accept(request, socket, head);
  });
  server.on('clientError', (_error, socket: Duplex) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  let closing: Promise<void> | null = null;
  return {
    url: `http://${urlHost(options.host)}:${port}`,
    host: options.host,
    port,
    close: () =>
      (closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await bridge.close();
        server.closeAllConnections();
        await stopped;
      })()),
  };
}

function listen(server: http.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(listenError(error, host, port));
    };
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number): WebServerError {
  const where = `${urlHost(host)}:${port}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return new WebServerError(
        'WEB_PORT_IN_USE',
        `cannot serve the UI on ${where}: the port is already in use (another gateway or program has it); choose another port with --web`,
      );
    case 'EADDRNOTAVAIL':
      return new WebServerError(
        'WEB_LISTEN_FAILED',
        `cannot serve the UI on ${where}: ${host} is not an address of this machine`,
      );
    case 'EACCES':
      return new WebServerError(
        'WEB_LISTEN_FAILED',
        `cannot serve the UI on ${where}: not allowed to open this port (ports below 1024 need administrator rights)`,
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new WebServerError(
        'WEB_LISTEN_FAILED',
        `cannot serve the UI on ${where}: the host name ${host} cannot be resolved`,
      );
    default:
      return new WebServerError(
        'WEB_LISTEN_FAILED',
        `cannot serve the UI on ${where}: ${error.code ?? error.message}`,
      );
  }
}

interface RequestContext {
  staticDir: string;
  guard: AccessGuard;
  loopbackOnly: boolean;
  downloads: DownloadRegistry | null;
  log: (line: string) => void;
}

async function handleRequest(
  request: IncomingMessage,
  response: ServerResponse,
  { staticDir, guard, loopbackOnly, downloads, log }: RequestContext,
): Promise<void> {
  if (!hostAllowed(request, loopbackOnly)) {
    sendPage(response, 403, errorPage(403, 'this gateway answers only to localhost addresses'));
    return;
  }
  const url = requestUrl(request);
  if (!url) {
    sendPage(response, 400, errorPage(400, 'bad request'));
    return;
  }
  const pathname = url.pathname;
  const offered = url.searchParams.get('token');
  if (guard.required) {
    if (offered !== null) {
      if (!guard.tokenMatches(offered)) {
        sendPage(response, 401, loginPage(pathname, true));
        return;
      }
      url.searchParams.delete('token');
      response.writeHead(303, {
        ...SECURITY_HEADERS,
        'Set-Cookie': guard.sessionCookie(),
        Location: `${pathname}${url.search}`,
        'Cache-Control': 'no-store',
        'Content-Length': 0,
      });
      response.end();
      return;
    }
    const verdict = guard.check(request);
    if (verdict !== 'allowed') {
      sendPage(response, 401, loginPage(pathname, verdict === 'wrong'));
      return;
    }
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    sendPage(response, 405, errorPage(405, 'only GET and HEAD are served here'), {
      Allow: 'GET, HEAD',
    });
    return;
  }
  if (pathname === WEBSOCKET_PATH) {
    sendPage(response, 426, errorPage(426, 'this address is for WebSocket connections'), {
      Upgrade: 'websocket',
    });
    return;
  }
  if (pathname.startsWith(DOWNLOAD_PATH_PREFIX)) {
    const id = pathname.slice(DOWNLOAD_PATH_PREFIX.length);
    const plan = request.method === 'HEAD' ? downloads?.peek(id) : downloads?.take(id);
    if (!plan) {
      sendPage(
        response,
        404,
        errorPage(
          404,
          'this export is not here: it was downloaded already, or it expired; export again',
        ),
      );
      return;
    }
    await sendDownload(request, response, plan, SECURITY_HEADERS, log);
    return;
  }
  const target = await resolveStatic(staticDir, pathname);
  switch (target.kind) {
    case 'file':
      await sendFile(request, response, target, SECURITY_HEADERS);
      return;
    case 'not-built':
      sendPage(response, 503, notBuiltPage());
      return;
    case 'bad-path':
      sendPage(response, 400, errorPage(400, 'this path is not allowed'));
      return;
    case 'not-found':
      sendPage(response, 404, errorPage(404, 'not found'));
      return;
  }
}

/**
 * The request target as a URL on this server. Leading slashes are collapsed so that a path such
 * as `//evil.example/` can never become a redirect to another site.
 */
function requestUrl(request: IncomingMessage): URL | null {
  const raw = request.url ?? '';
  if (!raw.startsWith('/')) return null;
  try {
    return new URL(`http://gateway/${raw.replace(/^\/+/, '')}`);
  } catch {
    return null;
  }
}

function sendPage(
  response: ServerResponse,
  status: number,
  html: string,
  extra: Record<string, string> = {},
): void {
  const body = Buffer.from(html, 'utf8');
  response.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': body.length,
    'Cache-Control': 'no-store',
    ...extra,
  });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}

function upgradeRefusal(
  request: IncomingMessage,
  guard: AccessGuard,
  loopbackOnly: boolean,
  hasRoom: boolean,
): { status: number; words: string } | null {
  const url = requestUrl(request);
  if (!url || url.pathname !== WEBSOCKET_PATH) return { status: 404, words: 'not found' };
  if (!hostAllowed(request, loopbackOnly)) {
    return { status: 403, words: 'this gateway answers only to localhost addresses' };
  }
  if (!originAllowed(request)) {
    return { status: 403, words: 'WebSocket connections are accepted from this site only' };
  }
  if (guard.required) {
    const offered = url.searchParams.get('token');
    const allowed =
      offered !== null ? guard.tokenMatches(offered) : guard.check(request) === 'allowed';
    if (!allowed) return { status: 401, words: 'an access token is required' };
  }
  if (!hasRoom) return { status: 503, words: 'too many browsers are connected' };
  return null;
}

function abortUpgrade(socket: Duplex, status: number, words: string): void {
  const body = `${words}\n`;
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      '\r\n' +
      body,
  );
}
