import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  CONTENT_SECURITY_POLICY,
  appUrlMatcher,
  createMainWindow,
  installSessionPolicy,
} from '../../src-main/electron/window';
import { FakeBrowserWindow, fake, resetFakeElectron } from './fake-electron';

vi.mock('electron', async () => (await import('./fake-electron')).electronModule);

const INDEX = path.resolve('/opt/lab-gateway/dist/renderer/index.html');
const INDEX_URL = pathToFileURL(INDEX).href;
const PRELOAD = path.resolve('/opt/lab-gateway/dist/main/preload.cjs');

function openWindow(): FakeBrowserWindow {
  createMainWindow({ preload: PRELOAD, rendererIndex: INDEX, isAppUrl: appUrlMatcher(INDEX) });
  return FakeBrowserWindow.created.at(-1)!;
}

beforeEach(() => resetFakeElectron());

describe('the main window', () => {
  it('runs the renderer sandboxed, isolated, without Node, with our preload', () => {
    const window = openWindow();
    expect(window.options.webPreferences).toMatchObject({
      preload: PRELOAD,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
  });

  it('cannot be made smaller than 1280×720 and loads the built renderer', () => {
    const window = openWindow();
    expect(window.options).toMatchObject({ minWidth: 1280, minHeight: 720 });
    expect(window.options.width as number).toBeGreaterThanOrEqual(1280);
    expect(window.options.height as number).toBeGreaterThanOrEqual(720);
    expect(window.loadedFile).toBe(INDEX);
  });

  it('appears once the page is ready to show', async () => {
    const window = openWindow();
    expect(window.visible).toBe(false);
    await Promise.resolve();
    expect(window.visible).toBe(true);
  });

  it('blocks navigation and redirects to anything but our page', () => {
    const contents = openWindow().webContents;
    for (const url of [
      'https://attacker.example/',
      'file:///etc/passwd',
      pathToFileURL(path.resolve('/opt/lab-gateway/dist/renderer/other.html')).href,
    ]) {
      expect(contents.emitCancellable('will-navigate', url), url).toBe(true);
      expect(contents.emitCancellable('will-redirect', url), url).toBe(true);
    }
    expect(contents.emitCancellable('will-navigate', `${INDEX_URL}#/history`)).toBe(false);
  });

  it('denies every new window and embedded webview', () => {
    const contents = openWindow().webContents;
    expect(contents.windowOpenHandler?.({ url: 'https://example.org/' })).toEqual({
      action: 'deny',
    });
    expect(contents.windowOpenHandler?.({ url: INDEX_URL })).toEqual({ action: 'deny' });
    expect(contents.emitCancellable('will-attach-webview', {}, {})).toBe(true);
  });
});

describe('the session policy', () => {
  it('sets a strict Content-Security-Policy on every response, replacing any other', () => {
    installSessionPolicy(fake.session as never);
    let headers: Record<string, string[]> | undefined;
    fake.session.headersListener!(
      {
        url: INDEX_URL,
        responseHeaders: { 'content-security-policy': ['default-src *'], 'X-Other': ['kept'] },
      },
      (response) => (headers = response.responseHeaders),
    );
    expect(headers).toEqual({
      'X-Other': ['kept'],
      'Content-Security-Policy': [CONTENT_SECURITY_POLICY],
    });
    fake.session.headersListener!({ url: INDEX_URL }, (response) => {
      headers = response.responseHeaders;
    });
    expect(headers).toEqual({ 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] });
  });

  it('allows only our own scripts and nothing inline or remote', () => {
    const directives = new Map(
      CONTENT_SECURITY_POLICY.split(';').map((d) => {
        const [name, ...values] = d.trim().split(/\s+/);
        return [name!, values];
      }),
    );
    expect(directives.get('default-src')).toEqual(["'self'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('connect-src')).toEqual(["'self'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('base-uri')).toEqual(["'none'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-eval|\*|https?:/);
  });

  it('denies device and other permissions', () => {
    installSessionPolicy(fake.session as never);
    const answers = new Map<string, boolean>();
    for (const permission of ['media', 'geolocation', 'notifications', 'openExternal']) {
      fake.session.permissionRequest!({}, permission, (granted) =>
        answers.set(permission, granted),
      );
      expect(fake.session.permissionCheck!({}, permission)).toBe(false);
    }
    expect([...answers.values()]).toEqual([false, false, false, false]);
  });
});

describe('appUrlMatcher', () => {
  const isAppUrl = appUrlMatcher(INDEX);

  it('accepts our index page with any query or fragment', () => {
    expect(isAppUrl(INDEX_URL)).toBe(true);
    expect(isAppUrl(`${INDEX_URL}?x=1#/history`)).toBe(true);
  });

  it('refuses other files, other schemes and garbage', () => {
    for (const url of [
      pathToFileURL(path.resolve('/opt/lab-gateway/dist/renderer/index.htm')).href,
      INDEX_URL.replace('file://', 'https://'),
      INDEX_URL.replace('file:///', 'file://attacker.example/'),
      'about:blank',
      '',
      'not a url',
    ]) {
      expect(isAppUrl(url), url).toBe(false);
    }
  });
});
