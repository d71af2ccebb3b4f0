/**
 * The one window and the session rules around it. The renderer is treated as untrusted: it runs
 * sandboxed without Node, under a strict Content-Security-Policy, and may neither navigate away
 * from our page nor open other windows.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BrowserWindow, type Session, type WebContents } from 'electron';

/**
 * Only our own files: no inline or evaluated scripts, no remote anything. Inline styles stay
 * allowed because React sets `style` attributes (virtualized rows, sparklines).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "frame-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Web permissions the UI uses; every other request (camera, geolocation, …) is denied. */
const ALLOWED_PERMISSIONS: ReadonlySet<string> = new Set(['clipboard-sanitized-write']);

/** Applies the CSP to every response and denies permissions the UI never asks for. */
export function installSessionPolicy(session: Session): void {
  session.webRequest.onHeadersReceived((details, callback) => {
    const headers: Record<string, string[]> = {};
    for (const [name, value] of Object.entries(details.responseHeaders ?? {})) {
      if (name.toLowerCase() !== 'content-security-policy') headers[name] = value;
    }
    headers['Content-Security-Policy'] = [CONTENT_SECURITY_POLICY];
    callback({ responseHeaders: headers });
  });
  session.setPermissionRequestHandler((_contents, permission, callback) =>
    callback(ALLOWED_PERMISSIONS.has(permission)),
  );
  session.setPermissionCheckHandler((_contents, permission) => ALLOWED_PERMISSIONS.has(permission));
}

/** Whether a URL is the renderer's index page (any query or fragment). */
export function appUrlMatcher(rendererIndex: string): (url: string) => boolean {
  const expected = comparablePath(pathToFileURL(path.resolve(rendererIndex)));
  return (url) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return false;
    }
    return parsed.protocol === 'file:' && parsed.host === '' && comparablePath(parsed) === expected;
  };
}

function comparablePath(url: URL): string {
  let pathname: string;
  try {
    pathname = decodeURIComponent(url.pathname);
  } catch {
    return `\0${url.pathname}`;
  }
  // Windows paths are case-insensitive, and Chromium and Node disagree on the drive letter's case.
  return process.platform === 'win32' ? pathname.toLowerCase() : pathname;
}

export interface MainWindowOptions {
  preload: string;
  rendererIndex: string;
  isAppUrl: (url: string) => boolean;
}

export function createMainWindow(options: MainWindowOptions): BrowserWindow {
  const window = new BrowserWindow({
    width: 1440,
    height: 900,
    // The UI is laid out for 1280×720 and larger.
    minWidth: 1280,
    minHeight: 720,
    show: false,
    title: 'Lab Gateway',
    backgroundColor: '#ffffff',
    webPreferences: {
      preload: options.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  });
  lockDown(window.webContents, options.isAppUrl);
  window.once('ready-to-show', () => window.show());
  window.loadFile(options.rendererIndex).catch((error: unknown) => {
    console.error(`could not load ${options.rendererIndex}: ${String(error)}`);
    // An empty window still lets the user see something is wrong and quit normally.
    if (!window.isDestroyed()) window.show();
  });
  return window;
}

/** No navigation away from our page, no new windows, no embedded webviews. */
export function lockDown(contents: WebContents, isAppUrl: (url: string) => boolean): void {
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  const stayHome = (event: { preventDefault(): void }, url: string) => {
    if (!isAppUrl(url)) event.preventDefault();
  };
  contents.on('will-navigate', stayHome);
  contents.on('will-redirect', stayHome);
  contents.on('will-attach-webview', (event) => event.preventDefault());
}
