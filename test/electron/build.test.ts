import fs from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { channelOf } from '../../src-shared/contract';
import { tempDir } from '../support/temp';
import { FakeBrowserWindow, electronModule, fake, resetFakeElectron } from './fake-electron';

interface BuildScript {
  buildMain(options: { outdir: string; logLevel: string }): Promise<void>;
}

const temp = tempDir();
let outdir: string;

beforeAll(async () => {
  const script = path.resolve(import.meta.dirname, '../../scripts/build.mjs');
  const { buildMain } = (await import(pathToFileURL(script).href)) as BuildScript;
  outdir = path.join(temp.dir, 'main');
  await buildMain({ outdir, logLevel: 'silent' });
});
afterAll(() => temp.remove());

/** The modules a bundle still requires at run time. */
function requiredModules(file: string): string[] {
  const text = fs.readFileSync(path.join(outdir, file), 'utf8');
  return [...new Set([...text.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]!))].sort();
}

describe('scripts/build.mjs', () => {
  it('bundles the main process and the preload into CommonJS files', () => {
    expect(
      fs
        .readdirSync(outdir)
        .filter((f) => f.endsWith('.cjs'))
        .sort(),
    ).toEqual(['electron-main.cjs', 'preload.cjs']);
  });

  it('leaves the sandboxed preload nothing to require but electron', () => {
    expect(requiredModules('preload.cjs')).toEqual(['electron']);
  });

  it('keeps electron and the native SQLite and serial modules outside the main bundle', () => {
    const modules = requiredModules('electron-main.cjs');
    expect(modules).toContain('electron');
    expect(modules).toContain('better-sqlite3');
    const packages = modules.filter((m) => !m.startsWith('node:'));
    expect(packages.sort()).toEqual(['better-sqlite3', 'electron', 'serialport']);
  });
});

describe('the bundled main process', () => {
  it('starts the gateway, answers our window and closes before quitting', async () => {
    resetFakeElectron();
    // An installed app's layout: the renderer beside the bundles, SQLite's own build found by itself.
    const appRoot = path.join(temp.dir, 'app');
    fs.mkdirSync(path.join(appRoot, 'dist', 'renderer'), { recursive: true });
    fs.writeFileSync(path.join(appRoot, 'dist', 'renderer', 'index.html'), '<!doctype html>');
    fake.app.appPath = appRoot;
    fake.app.userData = path.join(temp.dir, 'user-data');
    fs.mkdirSync(fake.app.userData);
    fake.app.isPackaged = true;

    const sqlite = createRequire(path.resolve('package.json')).resolve('better-sqlite3');
    const modules = Module as unknown as {
      _load: (request: string, ...rest: unknown[]) => unknown;
    };
    const load = modules._load;
    modules._load = function (request, ...rest) {
      if (request === 'electron') return electronModule;
      if (request === 'better-sqlite3') return load.call(this, sqlite, ...rest);
      return load.call(this, request, ...rest);
    };
    const signals = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };
    try {
      createRequire(import.meta.url)(path.join(outdir, 'electron-main.cjs'));
      await vi.waitFor(() => expect(FakeBrowserWindow.created).toHaveLength(1));
      const window = FakeBrowserWindow.created[0]!;
      const fromWindow = { sender: window.webContents, senderFrame: window.webContents.mainFrame };
      await expect(
        fake.ipcMain.invoke(channelOf('getAppInfo', 'command'), fromWindow, {}),
      ).resolves.toEqual({
        ok: true,
        value: {
          version: '1.2.3',
          runtime: 'electron',
          dbFile: path.join(fake.app.userData, 'gateway.sqlite'),
          configFile: null,
          demoAvailable: true,
          timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
        },
      });
      fake.app.quit();
      expect(fake.app.quitted).toBe(false);
      await vi.waitFor(() => expect(fake.app.quitted).toBe(true));
      expect(fake.ipcMain.handlers.size).toBe(0);
    } finally {
      modules._load = load;
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        for (const listener of process.listeners(signal)) {
          if (!signals[signal].includes(listener)) process.off(signal, listener);
        }
      }
    }
  });
});
