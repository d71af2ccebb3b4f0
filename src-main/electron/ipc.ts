/**
 * The main-process end of the contract over Electron IPC: one `ipcMain.handle` per command and
 * one channel per event, all derived from the contract maps. Requests are accepted only from the
 * main frame of one of our windows showing our page; the service validates every payload.
 */
import { BrowserWindow, type IpcMain, type IpcMainInvokeEvent, type WebContents } from 'electron';
import {
  channelOf,
  commandNames,
  type CommandName,
  type CommandResult,
} from '../../src-shared/contract';
import type { CommandService } from '../service/types';

/** The windows that may call the gateway and that receive its events. */
export interface AppWindows {
  list(): readonly BrowserWindow[];
  /** Whether a URL is our renderer's page (and not something it navigated to). */
  isAppUrl(url: string): boolean;
}

/** Registers every command handler and the event forwarding; the result undoes both. */
export function registerIpc(
  ipcMain: IpcMain,
  service: CommandService,
  windows: AppWindows,
): () => void {
  for (const name of commandNames) {
    ipcMain.handle(channelOf(name, 'command'), (event, payload: unknown) =>
      isTrustedSender(event, windows) ? dispatch(service, name, payload) : forbidden(name),
    );
  }
  const unsubscribe = service.subscribe((event) => {
    const channel = channelOf(event.name, 'event');
    for (const contents of liveContents(windows)) contents.send(channel, event.payload);
  });
  return () => {
    unsubscribe();
    for (const name of commandNames) ipcMain.removeHandler(channelOf(name, 'command'));
  };
}

function isTrustedSender(event: IpcMainInvokeEvent, windows: AppWindows): boolean {
  const window = BrowserWindow.fromWebContents(event.sender);
  if (!window || !windows.list().includes(window)) return false;
  const frame = event.senderFrame;
  // A subframe, even one of our own files, has no business calling the gateway.
  if (!frame || frame !== event.sender.mainFrame) return false;
  return windows.isAppUrl(frame.url);
}

async function dispatch<C extends CommandName>(
  service: CommandService,
  name: C,
  payload: unknown,
): Promise<CommandResult<C>> {
  try {
    return await service.dispatch(name, payload);
  } catch (error) {
    // dispatch promises never to throw; if it does, the renderer still gets an answer it can show.
    return {
      ok: false,
      error: {
        code: 'INTERNAL',
        message: `${name} failed: ${error instanceof Error ? error.message : String(error)}`,
      },
    };
  }
}

function forbidden<C extends CommandName>(name: C): CommandResult<C> {
  return {
    ok: false,
    error: {
      code: 'FORBIDDEN',
      message: `${name} refused: the request did not come from the gateway's own window`,
    },
  };
}

function* liveContents(windows: AppWindows): Generator<WebContents> {
  for (const window of windows.list()) {
    if (window.isDestroyed()) continue;
    const contents = window.webContents;
    // Event payloads carry sample and patient IDs: only our own page receives them.
    if (contents.isDestroyed() || !windows.isAppUrl(contents.getURL())) continue;
    yield contents;
  }
}
