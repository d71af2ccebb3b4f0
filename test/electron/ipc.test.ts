import { pathToFileURL } from 'node:url';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  channelOf,
  commandNames,
  eventNames,
  parseRequest,
  type CommandName,
  type CommandResult,
} from '../../src-shared/contract';
import type { CommandService, ServiceEvent } from '../../src-main/service/types';
import { registerIpc, type AppWindows } from '../../src-main/electron/ipc';
import { FakeBrowserWindow, fake, resetFakeElectron } from './fake-electron';

vi.mock('electron', async () => (await import('./fake-electron')).electronModule);

const INDEX = '/opt/lab-gateway/dist/renderer/index.html';
const INDEX_URL = pathToFileURL(INDEX).href;

/** Validates like the real service and records what reached it. */
class FakeService implements CommandService {
  readonly calls: { command: CommandName; payload: unknown }[] = [];
  readonly listeners = new Set<(event: ServiceEvent) => void>();
  failWith: Error | null = null;

  dispatch<C extends CommandName>(command: C, payload: unknown): Promise<CommandResult<C>> {
    this.calls.push({ command, payload });
    if (this.failWith) return Promise.reject(this.failWith);
    const request = parseRequest(command, payload);
    if (!request.ok) return Promise.resolve(request);
    return Promise.resolve({ ok: true, value: { echoed: command } } as unknown as CommandResult<C>);
  }
  subscribe(listener: (event: ServiceEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(event: ServiceEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

function ourWindow(): FakeBrowserWindow {
  const window = new FakeBrowserWindow({});
  window.webContents.showPage(INDEX_URL);
  return window;
}

function setup() {
  const service = new FakeService();
  const open: FakeBrowserWindow[] = [ourWindow()];
  const windows: AppWindows = {
    list: () => open as never,
    isAppUrl: (url) => url.split(/[?#]/)[0] === INDEX_URL,
  };
  const dispose = registerIpc(fake.ipcMain as never, service, windows);
  return { service, open, dispose };
}

/** The IPC event the main process sees for a request from this window's page. */
function requestFrom(window: FakeBrowserWindow, frame = window.webContents.mainFrame) {
  return { sender: window.webContents, senderFrame: frame };
}

beforeEach(() => resetFakeElectron());

describe('IPC wiring', () => {
  it('registers exactly one handler per contract command', () => {
    setup();
    const channels = commandNames.map((name) => channelOf(name, 'command'));
    expect([...fake.ipcMain.handlers.keys()].sort()).toEqual([...channels].sort());
  });

  it('passes each command to the service under its own name, with the payload as sent', async () => {
    const { service, open } = setup();
    for (const name of commandNames) {
      const payload = { probe: name };
      await fake.ipcMain.invoke(channelOf(name, 'command'), requestFrom(open[0]!), payload);
      expect(service.calls.at(-1)).toEqual({ command: name, payload });
    }
  });

  it('returns the service’s rejection of an invalid payload', async () => {
    const { service, open } = setup();
    const result = (await fake.ipcMain.invoke(
      channelOf('setInstrumentEnabled', 'command'),
      requestFrom(open[0]!),
      { id: 'chem1', enabled: 'yes', extra: 1 },
    )) as CommandResult<'setInstrumentEnabled'>;
    expect(service.calls).toHaveLength(1);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('INVALID_REQUEST');
    expect(result.error.fields?.map((f) => f.field)).toContain('enabled');
  });

  it('answers a valid request with the service’s result', async () => {
    const { open } = setup();
    const result = await fake.ipcMain.invoke(
      channelOf('reconnectInstrument', 'command'),
      requestFrom(open[0]!),
      { id: 'chem1' },
    );
    expect(result).toEqual({ ok: true, value: { echoed: 'reconnectInstrument' } });
  });

  it('turns a service that throws into a coded error instead of a rejected invoke', async () => {
    const { service, open } = setup();
    service.failWith = new Error('disk on fire');
    const result = (await fake.ipcMain.invoke(
      channelOf('getStats', 'command'),
      requestFrom(open[0]!),
      {},
    )) as CommandResult<'getStats'>;
    expect(result).toEqual({
      ok: false,
      error: { code: 'INTERNAL', message: 'getStats failed: disk on fire' },
    });
  });

  describe('refuses requests that do not come from our page', () => {
    const forbidden = { ok: false, error: { code: 'FORBIDDEN', message: expect.any(String) } };

    it('a window that is not ours', async () => {
      const { service } = setup();
      const stranger = ourWindow();
      const result = await fake.ipcMain.invoke(
        channelOf('deleteInstrument', 'command'),
        requestFrom(stranger),
        { id: 'chem1' },
      );
      expect(result).toEqual(forbidden);
      expect(service.calls).toEqual([]);
    });

    it('web contents that belong to no window', async () => {
      const { service } = setup();
      const orphan = new FakeBrowserWindow({}).webContents;
      FakeBrowserWindow.created.pop();
      const result = await fake.ipcMain.invoke(
        channelOf('listInstruments', 'command'),
        { sender: orphan, senderFrame: orphan.mainFrame },
        {},
      );
      expect(result).toEqual(forbidden);
      expect(service.calls).toEqual([]);
    });

    it('our window after it navigated to another page', async () => {
      const { service, open } = setup();
      open[0]!.webContents.showPage('https://attacker.example/');
      const result = await fake.ipcMain.invoke(
        channelOf('exportMessages', 'command'),
        requestFrom(open[0]!),
        { query: {}, format: 'csv' },
      );
      expect(result).toEqual(forbidden);
      expect(service.calls).toEqual([]);
    });

    it('a subframe of our window, or a frame that is gone', async () => {
      const { service, open } = setup();
      const window = open[0]!;
      for (const frame of [{ url: INDEX_URL }, null]) {
        const result = await fake.ipcMain.invoke(
          channelOf('listInstruments', 'command'),
          { sender: window.webContents, senderFrame: frame },
          {},
        );
        expect(result).toEqual(forbidden);
      }
      expect(service.calls).toEqual([]);
    });
  });

  it('forwards every contract event to every live window showing our page', () => {
    const { service, open } = setup();
    const second = ourWindow();
    const closed = ourWindow();
    const elsewhere = ourWindow();
    elsewhere.webContents.showPage('file:///etc/passwd');
    open.push(second, closed, elsewhere);
    closed.close();
    for (const name of eventNames) {
      service.emit({ name, payload: { probe: name } } as unknown as ServiceEvent);
    }
    const expected = eventNames.map((name) => ({
      channel: channelOf(name, 'event'),
      payload: { probe: name },
    }));
    expect(open[0]!.webContents.sent).toEqual(expected);
    expect(second.webContents.sent).toEqual(expected);
    expect(closed.webContents.sent).toEqual([]);
    expect(elsewhere.webContents.sent).toEqual([]);
  });

  it('subscribes once, and disposing removes every handler and the subscription', () => {
    const { service, open, dispose } = setup();
    expect(service.listeners.size).toBe(1);
    dispose();
    expect(fake.ipcMain.handlers.size).toBe(0);
    expect(service.listeners.size).toBe(0);
    service.emit({ name: 'instrumentRemoved', payload: { id: 'chem1' } });
    expect(open[0]!.webContents.sent).toEqual([]);
  });
});
