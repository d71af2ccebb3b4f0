/**
 * A stand-in for the parts of the `electron` module the desktop shell uses, recording what the
 * shell asks of it. Tests install it with
 * `vi.mock('electron', async () => (await import('./fake-electron')).electronModule)`.
 */
import { EventEmitter } from 'node:events';
import { pathToFileURL } from 'node:url';

export interface FakeFrame {
  url: string;
}

export class FakeWebContents extends EventEmitter {
  url = '';
  destroyed = false;
  readonly mainFrame: FakeFrame = { url: '' };
  readonly sent: { channel: string; payload: unknown }[] = [];
  windowOpenHandler: ((details: { url: string }) => { action: string }) | null = null;

  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.windowOpenHandler = handler;
  }
  send(channel: string, payload: unknown): void {
    this.sent.push({ channel, payload });
  }
  getURL(): string {
    return this.url;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  /** Shows `url` as the page, as a finished load would. */
  showPage(url: string): void {
    this.url = url;
    this.mainFrame.url = url;
  }
  /** Emits a cancellable event the way Electron does; true when a listener cancelled it. */
  emitCancellable(name: string, ...args: unknown[]): boolean {
    let prevented = false;
    this.emit(name, { preventDefault: () => (prevented = true) }, ...args);
    return prevented;
  }
}

export class FakeBrowserWindow extends EventEmitter {
  static created: FakeBrowserWindow[] = [];
  static fromWebContents(contents: unknown): FakeBrowserWindow | null {
    return FakeBrowserWindow.created.find((w) => w.webContents === contents) ?? null;
  }

  readonly webContents = new FakeWebContents();
  loadedFile: string | null = null;
  visible = false;
  focused = false;
  minimized = false;
  destroyed = false;

  constructor(readonly options: Record<string, unknown>) {
    super();
    FakeBrowserWindow.created.push(this);
  }
  loadFile(file: string): Promise<void> {
    this.loadedFile = file;
    this.webContents.showPage(pathToFileURL(file).href);
    queueMicrotask(() => this.emit('ready-to-show'));
    return Promise.resolve();
  }
  show(): void {
    this.visible = true;
  }
  focus(): void {
    this.focused = true;
  }
  isMinimized(): boolean {
    return this.minimized;
  }
  restore(): void {
    this.minimized = false;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  close(): void {
    this.destroyed = true;
    this.webContents.destroyed = true;
    this.emit('closed');
  }
}

type InvokeHandler = (event: unknown, ...args: unknown[]) => unknown;

export class FakeIpcMain {
  readonly handlers = new Map<string, InvokeHandler>();
  handle(channel: string, handler: InvokeHandler): void {
    // Electron refuses a second handler on a channel.
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, handler);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  /** What the renderer's `ipcRenderer.invoke(channel, payload)` resolves to. */
  async invoke(channel: string, event: unknown, payload: unknown): Promise<unknown> {
    const handler = this.handlers.get(channel);
    if (!handler) throw new Error(`No handler registered for '${channel}'`);
    return handler(event, payload);
  }
}

export class FakeIpcRenderer extends EventEmitter {
  readonly invocations: { channel: string; args: unknown[] }[] = [];
  invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    this.invocations.push({ channel, args });
    return Promise.resolve({ ok: true, value: { channel } });
  }
}

export class FakeApp extends EventEmitter {
  hasLock = true;
  isPackaged = false;
  appPath = '/nonexistent';
  userData = '/nonexistent-user-data';
  downloads = '/nonexistent-downloads';
  quitted = false;
  exitCode: number | null = null;
  quitRequests = 0;
  private ready: Promise<void> = Promise.resolve();

  requestSingleInstanceLock(): boolean {
    return this.hasLock;
  }
  whenReady(): Promise<void> {
    return this.ready;
  }
  getAppPath(): string {
    return this.appPath;
  }
  getPath(name: string): string {
    if (name === 'userData') return this.userData;
    if (name === 'downloads') return this.downloads;
    throw new Error(`unexpected app.getPath("${name}")`);
  }
  getVersion(): string {
    return '1.2.3';
  }
  /** Like Electron: `before-quit` may cancel; otherwise the app quits. */
  quit(): void {
    this.quitRequests += 1;
    let prevented = false;
    this.emit('before-quit', { preventDefault: () => (prevented = true) });
    if (!prevented) this.quitted = true;
  }
  exit(code: number): void {
    this.exitCode = code;
    this.quitted = true;
  }
}

type HeadersListener = (
  details: { url: string; responseHeaders?: Record<string, string[]> },
  callback: (response: { responseHeaders?: Record<string, string[]> }) => void,
) => void;

export class FakeSession {
  headersListener: HeadersListener | null = null;
  permissionRequest:
    ((contents: unknown, permission: string, callback: (granted: boolean) => void) => void) | null =
    null;
  permissionCheck: ((contents: unknown, permission: string) => boolean) | null = null;
  readonly webRequest = {
    onHeadersReceived: (listener: HeadersListener) => {
      this.headersListener = listener;
    },
  };
  setPermissionRequestHandler(handler: NonNullable<FakeSession['permissionRequest']>): void {
    this.permissionRequest = handler;
  }
  setPermissionCheckHandler(handler: NonNullable<FakeSession['permissionCheck']>): void {
    this.permissionCheck = handler;
  }
}

export const fake = {
  app: new FakeApp(),
  ipcMain: new FakeIpcMain(),
  ipcRenderer: new FakeIpcRenderer(),
  session: new FakeSession(),
  exposed: new Map<string, unknown>(),
  errorBoxes: [] as { title: string; content: string }[],
  saveDialogs: [] as SaveDialogCall[],
  /** The file the next save dialog returns; null: the user presses Cancel. */
  saveDialogAnswer: null as string | null,
};

export interface SaveDialogCall {
  /** The window the dialog was shown in front of, if any. */
  parent: FakeBrowserWindow | null;
  options: { title?: string; defaultPath?: string; filters?: unknown[]; properties?: string[] };
}

/** Fresh fakes for the next test; the module object keeps pointing at the current ones. */
export function resetFakeElectron(): void {
  fake.app = new FakeApp();
  fake.ipcMain = new FakeIpcMain();
  fake.ipcRenderer = new FakeIpcRenderer();
  fake.session = new FakeSession();
  fake.exposed.clear();
  fake.errorBoxes.length = 0;
  fake.saveDialogs = [];
  fake.saveDialogAnswer = null;
  FakeBrowserWindow.created = [];
}

export const electronModule = {
  get app() {
    return fake.app;
  },
  get ipcMain() {
    return fake.ipcMain;
  },
  get ipcRenderer() {
    return fake.ipcRenderer;
  },
  get session() {
    return { defaultSession: fake.session };
  },
  BrowserWindow: FakeBrowserWindow,
  contextBridge: {
    exposeInMainWorld(key: string, api: unknown): void {
      fake.exposed.set(key, api);
    },
  },
  dialog: {
    showErrorBox(title: string, content: string): void {
      fake.errorBoxes.push({ title, content });
    },
    /** Like Electron: `(options)` or `(window, options)`. */
    showSaveDialog(
      ...args: [SaveDialogCall['options']] | [FakeBrowserWindow, SaveDialogCall['options']]
    ): Promise<{ canceled: boolean; filePath: string }> {
      const [parent, options] = args.length === 2 ? args : [null, args[0]];
      fake.saveDialogs.push({ parent, options });
      const answer = fake.saveDialogAnswer;
      return Promise.resolve(
        answer === null ? { canceled: true, filePath: '' } : { canceled: false, filePath: answer },
      );
    },
  },
};
