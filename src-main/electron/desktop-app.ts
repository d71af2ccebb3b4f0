/**
 * The desktop app's lifetime: one instance per user, the gateway opened once Electron is ready,
 * the window wired to it over IPC, and a quit that waits for the gateway to close cleanly.
 */
import fs from 'node:fs';
import { app, dialog, ipcMain, session, type BrowserWindow } from 'electron';
import type { DeliverExport } from '../service/exports';
import type { CommandService } from '../service/types';
import { exportThroughSaveDialog } from './export-dialog';
import { registerIpc, type AppWindows } from './ipc';
import { nativeBindingFor } from './native-binding';
import { desktopPaths } from './paths';
import { appUrlMatcher, createMainWindow, installSessionPolicy } from './window';

export interface DesktopRuntimeOptions {
  dbFile: string;
  /** better_sqlite3.node built for Electron, when node_modules holds Node's build. */
  nativeBinding: string | undefined;
  version: string;
  /** Exports go through the save dialog, in front of the app's window. */
  deliverExport: DeliverExport;
}

/** The gateway as the desktop app needs it: the contract served, and one way to stop it. */
export interface DesktopRuntime {
  service: CommandService;
  close(deadlineMs: number): Promise<void>;
}

export interface DesktopAppOptions {
  openRuntime: (options: DesktopRuntimeOptions) => DesktopRuntime | Promise<DesktopRuntime>;
  argv: readonly string[];
  /** How long quitting waits for connections to finish; default 5 s. */
  closeDeadlineMs?: number;
}

export function startDesktopApp(options: DesktopAppOptions): void {
  // A second gateway on the same database and ports would fight the first one.
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  const deadlineMs = options.closeDeadlineMs ?? 5_000;
  const paths = desktopPaths(app.getAppPath(), app.getPath('userData'));
  const isAppUrl = appUrlMatcher(paths.rendererIndex);
  const open = new Set<BrowserWindow>();
  const windows: AppWindows = { list: () => [...open], isAppUrl };
  let runtime: DesktopRuntime | null = null;
  let disposeIpc: (() => void) | null = null;
  let quit: 'running' | 'closing' | 'closed' = 'running';

  const openWindow = (): BrowserWindow => {
    const window = createMainWindow({ ...paths, isAppUrl });
    open.add(window);
    window.on('closed', () => open.delete(window));
    return window;
  };

  const start = async (): Promise<void> => {
    installSessionPolicy(session.defaultSession);
    if (!fs.existsSync(paths.rendererIndex)) {
      throw new Error(`the user interface has not been built (${paths.rendererIndex} is missing)`);
    }
    const opened = await options.openRuntime({
      dbFile: paths.dbFile,
      nativeBinding: nativeBindingFor({ isPackaged: app.isPackaged, appRoot: app.getAppPath() }),
      version: app.getVersion(),
      deliverExport: exportThroughSaveDialog({
        parent: () => [...open].find((window) => !window.isDestroyed()),
        folder: () => app.getPath('downloads'),
      }),
    });
    if (quit !== 'running') {
      await opened.close(deadlineMs);
      return;
    }
    runtime = opened;
    disposeIpc = registerIpc(ipcMain, opened.service, windows);
    openWindow();
    if (options.argv.includes('--demo')) {
      const result = await opened.service.dispatch('startDemo', {});
      if (!result.ok) console.error(`--demo: ${result.error.message}`);
    }
  };

  const shutdown = async (): Promise<void> => {
    disposeIpc?.();
    disposeIpc = null;
    const closing = runtime?.close(deadlineMs);
    runtime = null;
    if (!closing) return;
    // The gateway honours the deadline itself; this bounds a close that hangs regardless.
    let timer: NodeJS.Timeout | undefined;
    const overdue = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        console.error(`the gateway did not close within ${deadlineMs} ms; quitting anyway`);
        resolve();
      }, deadlineMs + 1_000);
    });
    try {
      await Promise.race([closing, overdue]);
    } catch (error) {
      console.error(`closing the gateway failed: ${String(error)}`);
    } finally {
      clearTimeout(timer);
    }
  };

  app.on('second-instance', () => {
    const [first] = open;
    if (!first) {
      if (runtime) openWindow();
      return;
    }
    if (first.isMinimized()) first.restore();
    first.show();
    first.focus();
  });

  app.on('before-quit', (event) => {
    if (quit === 'closed') return;
    event.preventDefault();
    if (quit === 'closing') return;
    quit = 'closing';
    void shutdown().finally(() => {
      quit = 'closed';
      app.quit();
    });
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  app.on('activate', () => {
    if (open.size === 0 && runtime) openWindow();
  });

  app
    .whenReady()
    .then(start)
    .catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      console.error(`Lab Gateway could not start: ${message}`);
      dialog.showErrorBox('Lab Gateway could not start', message);
      void shutdown().finally(() => app.exit(1));
    });
}
