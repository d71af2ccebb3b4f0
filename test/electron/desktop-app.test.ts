import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { channelOf, commandNames, type CommandResult } from '../../src-shared/contract';
import type { CommandService } from '../../src-main/service/types';
import {
  startDesktopApp,
  type DesktopRuntime,
  type DesktopRuntimeOptions,
} from '../../src-main/electron/desktop-app';
import { tempDir } from '../support/temp';
import { FakeBrowserWindow, fake, resetFakeElectron } from './fake-electron';

vi.mock('electron', async () => (await import('./fake-electron')).electronModule);

let temp: ReturnType<typeof tempDir>;

/** A checkout with a built renderer and an Electron build of the SQLite module. */
function checkout(options: { renderer?: boolean; native?: boolean } = {}): string {
  const root = fs.mkdtempSync(path.join(temp.dir, 'app-'));
  if (options.renderer ?? true) {
    fs.mkdirSync(path.join(root, 'dist', 'renderer'), { recursive: true });
    fs.writeFileSync(path.join(root, 'dist', 'renderer', 'index.html'), '<!doctype html>');
  }
  if (options.native ?? true) {
    fs.mkdirSync(path.join(root, 'build', 'electron-native'), { recursive: true });
    fs.writeFileSync(path.join(root, 'build', 'electron-native', 'better_sqlite3.node'), '');
  }
  return root;
}

class FakeRuntime implements DesktopRuntime {
  readonly dispatched: { command: string; payload: unknown }[] = [];
  readonly closes: number[] = [];
  closed = false;
  private finishClose: () => void = () => {};
  private readonly closing = new Promise<void>((resolve) => (this.finishClose = resolve));

  constructor(readonly options: DesktopRuntimeOptions) {}

  readonly service: CommandService = {
    dispatch: (command, payload) => {
      this.dispatched.push({ command, payload });
      return Promise.resolve({ ok: true, value: { instrumentIds: [] } } as CommandResult<never>);
    },
    subscribe: () => () => {},
  };
  close(deadlineMs: number): Promise<void> {
    this.closes.push(deadlineMs);
    return this.closing;
  }
  /** Lets the pending close finish, as the gateway does once its links are down. */
  finish(): void {
    this.closed = true;
    this.finishClose();
  }
}

/** Starts the app and waits until Electron's `ready` work is done. */
async function start(argv: string[] = ['electron', '.'], closeDeadlineMs?: number) {
  let runtime: FakeRuntime | null = null;
  startDesktopApp({
    argv,
    openRuntime: (options) => (runtime = new FakeRuntime(options)),
    ...(closeDeadlineMs ? { closeDeadlineMs } : {}),
  });
  await vi.waitFor(() => {
    if (fake.app.exitCode === null && FakeBrowserWindow.created.length === 0) {
      throw new Error('not started yet');
    }
  });
  await new Promise((resolve) => setImmediate(resolve));
  return { runtime: runtime as FakeRuntime | null };
}

beforeEach(() => {
  resetFakeElectron();
  temp = tempDir();
  fake.app.appPath = checkout();
  fake.app.userData = path.join(temp.dir, 'user-data');
});
afterEach(() => {
  vi.useRealTimers();
  temp.remove();
});

describe('the desktop app', () => {
  it('opens the gateway on the database in the user-data folder, with the Electron SQLite build', async () => {
    const { runtime } = await start();
    expect(runtime?.options).toEqual({
      dbFile: path.join(fake.app.userData, 'gateway.sqlite'),
      nativeBinding: path.join(fake.app.appPath, 'build', 'electron-native', 'better_sqlite3.node'),
      version: '1.2.3',
      deliverExport: expect.any(Function),
    });
  });

  it('saves exports through the save dialog in front of the window, starting in Downloads', async () => {
    const { runtime } = await start();
    fake.app.downloads = path.join(temp.dir, 'Downloads');
    const plan = {
      fileName: 'results.csv',
      mimeType: 'text/csv',
      chunks: function* () {},
      count: 0,
    };
    expect(await runtime!.options.deliverExport(plan)).toMatchObject({ savedTo: null });
    expect(fake.saveDialogs).toHaveLength(1);
    expect(fake.saveDialogs[0]!.parent).toBe(FakeBrowserWindow.created[0]);
    expect(fake.saveDialogs[0]!.options.defaultPath).toBe(
      path.join(temp.dir, 'Downloads', 'results.csv'),
    );
  });

  it('lets an installed app load its own rebuilt SQLite module', async () => {
    fake.app.isPackaged = true;
    fake.app.appPath = checkout({ native: false });
    const { runtime } = await start();
    expect(runtime?.options.nativeBinding).toBeUndefined();
  });

  it('wires every command, applies the CSP and opens one window on the built renderer', async () => {
    await start();
    expect(fake.ipcMain.handlers.size).toBe(commandNames.length);
    expect(fake.ipcMain.handlers.has(channelOf('listInstruments', 'command'))).toBe(true);
    expect(fake.session.headersListener).not.toBeNull();
    expect(FakeBrowserWindow.created).toHaveLength(1);
    const window = FakeBrowserWindow.created[0]!;
    expect(window.loadedFile).toBe(path.join(fake.app.appPath, 'dist', 'renderer', 'index.html'));
    expect(window.options.webPreferences).toMatchObject({
      preload: path.join(fake.app.appPath, 'dist', 'main', 'preload.cjs'),
    });
  });

  it('starts the demo instruments with --demo, and not without', async () => {
    const plain = await start();
    expect(plain.runtime?.dispatched).toEqual([]);
    resetFakeElectron();
    fake.app.appPath = checkout();
    const demo = await start(['electron', '.', '--demo']);
    expect(demo.runtime?.dispatched).toEqual([{ command: 'startDemo', payload: {} }]);
  });

  describe('single instance', () => {
    it('a second instance quits at once, opening neither the database nor a window', async () => {
      fake.app.hasLock = false;
      const openRuntime = vi.fn();
      startDesktopApp({ argv: [], openRuntime });
      await new Promise((resolve) => setImmediate(resolve));
      expect(fake.app.quitted).toBe(true);
      expect(openRuntime).not.toHaveBeenCalled();
      expect(FakeBrowserWindow.created).toEqual([]);
      expect(fake.ipcMain.handlers.size).toBe(0);
    });

    it('the first instance brings its window forward when a second one starts', async () => {
      await start();
      const window = FakeBrowserWindow.created[0]!;
      window.minimized = true;
      window.visible = false;
      fake.app.emit('second-instance', {}, ['electron', '.'], '/');
      expect(window.minimized).toBe(false);
      expect(window.visible).toBe(true);
      expect(window.focused).toBe(true);
      expect(FakeBrowserWindow.created).toHaveLength(1);
    });

    it('opens a new window when the running one has none (macOS keeps running without)', async () => {
      await start();
      FakeBrowserWindow.created[0]!.close();
      fake.app.emit('second-instance', {}, ['electron', '.'], '/');
      expect(FakeBrowserWindow.created).toHaveLength(2);
    });
  });

  describe('quitting', () => {
    it('waits for the gateway to close before quitting, once', async () => {
      const { runtime } = await start();
      fake.app.quit();
      fake.app.quit();
      expect(fake.app.quitted).toBe(false);
      expect(runtime?.closes).toEqual([5_000]);
      expect(fake.ipcMain.handlers.size).toBe(0);
      runtime?.finish();
      await vi.waitFor(() => expect(fake.app.quitted).toBe(true));
      expect(runtime?.closes).toEqual([5_000]);
    });

    it('quits anyway when closing hangs past the deadline', async () => {
      const { runtime } = await start();
      vi.useFakeTimers();
      fake.app.quit();
      await vi.advanceTimersByTimeAsync(5_000);
      expect(fake.app.quitted).toBe(false);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(fake.app.quitted).toBe(true);
      expect(runtime?.closed).toBe(false);
    });

    it('closing the last window quits the app (except on macOS)', async () => {
      const { runtime } = await start();
      fake.app.emit('window-all-closed');
      if (process.platform === 'darwin') {
        expect(fake.app.quitRequests).toBe(0);
      } else {
        expect(fake.app.quitRequests).toBe(1);
        expect(runtime?.closes).toEqual([5_000]);
      }
    });
  });

  describe('a start that cannot work says why and exits', () => {
    it('when the SQLite module was not built for Electron', async () => {
      fake.app.appPath = checkout({ native: false });
      const { runtime } = await start();
      expect(runtime).toBeNull();
      expect(fake.app.exitCode).toBe(1);
      expect(fake.errorBoxes[0]?.content).toMatch(/electron-native\.mjs/);
    });

    it('when the user interface was not built', async () => {
      fake.app.appPath = checkout({ renderer: false });
      const { runtime } = await start();
      expect(runtime).toBeNull();
      expect(fake.app.exitCode).toBe(1);
      expect(fake.errorBoxes[0]?.content).toMatch(/user interface has not been built/);
    });
  });
});
