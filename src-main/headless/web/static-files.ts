import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
};

export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** Where a URL path leads inside the built renderer. */
export type StaticTarget =
  | { kind: 'file'; file: string; size: number; mtimeMs: number; isIndex: boolean }
  /** An asset that does not exist: 404, never the app page in its place. */
  | { kind: 'not-found' }
  /** Undecodable, or pointing outside the folder: 400. */
  | { kind: 'bad-path' }
  /** No index.html: the UI has not been built. */
  | { kind: 'not-built' };

function isInside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root + path.sep);
}

/**
 * Resolves a URL path (still percent-encoded) to a file of `root`. Paths that decode to a place
 * outside `root`, directly or through a symbolic link, are refused. Unknown paths without a file
 * extension are the app's own routes and get index.html; unknown files get 404.
 */
export async function resolveStatic(root: string, urlPath: string): Promise<StaticTarget> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return { kind: 'bad-path' };
  }
  if (decoded.includes('\0')) return { kind: 'bad-path' };
  let realRoot: string;
  try {
    realRoot = await realpath(root);
  } catch {
    return { kind: 'not-built' };
  }
  const index = path.join(realRoot, 'index.html');
  const indexTarget = await fileTarget(index, true);
  if (!indexTarget) return { kind: 'not-built' };

  const candidate = path.resolve(realRoot, `.${path.sep}${decoded}`);
  if (!isInside(realRoot, candidate)) return { kind: 'bad-path' };
  const relative = path.relative(realRoot, candidate);
  const hidden = relative.split(path.sep).some((segment) => segment.startsWith('.'));
  if (relative !== '' && !hidden) {
    let real: string | null = null;
    try {
      real = await realpath(candidate);
    } catch {
      // Missing: one of the fallbacks below.
    }
    if (real !== null) {
      if (!isInside(realRoot, real)) return { kind: 'bad-path' };
      const target = await fileTarget(real, real === index);
      if (target) return target;
    }
  }
  const looksLikeFile = path.extname(decoded) !== '' || decoded.startsWith('/assets/');
  if (relative !== '' && (looksLikeFile || hidden)) return { kind: 'not-found' };
  return indexTarget;
}

async function fileTarget(file: string, isIndex: boolean): Promise<StaticTarget | null> {
  try {
    const info = await stat(file);
    if (!info.isFile()) return null;
    return { kind: 'file', file, size: info.size, mtimeMs: info.mtimeMs, isIndex };
  } catch {
    return null;
  }
}

/**
 * Sends a resolved file. index.html is never cached (it names the current assets); other files
 * are revalidated with an ETag.
 */
export async function sendFile(
  request: IncomingMessage,
  response: ServerResponse,
  target: Extract<StaticTarget, { kind: 'file' }>,
  headers: Readonly<Record<string, string>>,
): Promise<void> {
  const etag = `"${target.size.toString(16)}-${Math.floor(target.mtimeMs).toString(16)}"`;
  response.setHeader('Content-Type', contentTypeOf(target.file));
  for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
  if (target.isIndex) {
    response.setHeader('Cache-Control', 'no-store');
  } else {
    response.setHeader('Cache-Control', 'no-cache');
    response.setHeader('ETag', etag);
    if (request.headers['if-none-match'] === etag) {
      response.writeHead(304).end();
      return;
    }
  }
  response.setHeader('Content-Length', target.size);
  if (request.method === 'HEAD') {
    response.writeHead(200).end();
    return;
  }
  response.writeHead(200);
  try {
    await pipeline(createReadStream(target.file), response);
  } catch {
    // The browser went away, or the file changed under us mid-build: nothing left to answer.
    response.destroy();
  }
}
