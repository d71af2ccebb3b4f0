/**
 * Checkpoints on a thread of their own. Copying the write-ahead log into the database file and
 * syncing that file takes as long as the log is big (with 50 busy analyzers, megabytes a second);
 * on the event loop that answers the analyzers it delays every acknowledgement behind it. A worker
 * thread with its own connection to the same file does that copying and syncing with a PASSIVE
 * checkpoint, which never blocks the writer.
 *
 * A passive checkpoint on another connection cannot let the log start over while commits go on:
 * SQLite restarts the log only when a writer begins after the *whole* log was copied, and by the
 * time the worker is done, newer commits sit behind what it copied. So the store finishes each
 * round on its own connection (Store.checkpointIfDue): once the worker has copied all but a few
 * pages, the store's own passive checkpoint copies the rest between two of its commits, and the
 * next commit starts the log over. The worker does the megabytes, the event loop the last pages.
 *
 * The worker's code is passed as a string (`eval`), so it needs no file of its own next to the
 * bundles of the command line and of the desktop app, and runs the same under tsx in tests. It
 * loads the better-sqlite3 that the store loaded (found in the module cache) with the same native
 * binding.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';

export interface CheckpointPass {
  busy: boolean;
  /** Frames in the log when the worker looked. */
  walPages: number;
  /** Frames of the log now in the database file (SQLite's nBackfill). */
  checkpointedPages: number;
}

export interface CheckpointerEvents {
  /** A pass is done; the worker is idle again. */
  onPass: (pass: CheckpointPass) => void;
  /** The worker failed or exited; it takes no more requests. */
  onFailure: (error: Error) => void;
}

const WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
// [0]: 1 once the connection is closed; [1]: 1 from a pass's request (set by the store) to its end.
const state = new Int32Array(workerData.state);
let db = null;
function failure(error) {
  const message = error && error.message ? error.message : String(error);
  return { type: 'failed', message, code: error && typeof error.code === 'string' ? error.code : undefined };
}
function finish() {
  try {
    if (db !== null) db.close();
  } finally {
    db = null;
    Atomics.store(state, 0, 1);
    Atomics.notify(state, 0);
    parentPort.close();
  }
}
try {
  const Database = require(workerData.module);
  const options = { fileMustExist: true, timeout: workerData.busyTimeoutMs };
  if (workerData.nativeBinding) options.nativeBinding = workerData.nativeBinding;
  db = new Database(workerData.file, options);
  // This connection never writes; it must never checkpoint on a commit of its own either.
  db.pragma('wal_autocheckpoint = 0');
  parentPort.postMessage({ type: 'ready' });
} catch (error) {
  parentPort.postMessage(failure(error));
  finish();
}
parentPort.on('message', (request) => {
  if (request === 'close') return finish();
  if (db === null) return;
  try {
    const row = db.pragma('wal_checkpoint(PASSIVE)')[0] || { busy: 0, log: 0, checkpointed: 0 };
    parentPort.postMessage({ type: 'pass', busy: row.busy !== 0, walPages: row.log, checkpointedPages: row.checkpointed });
  } catch (error) {
    parentPort.postMessage(failure(error));
  } finally {
    Atomics.store(state, 1, 0);
    Atomics.notify(state, 1);
  }
});
`;

type Reply =
  | { type: 'ready' }
  | ({ type: 'pass' } & CheckpointPass)
  | { type: 'failed'; message: string; code?: string };

/** Longest wait for the worker to finish a pass and close its connection when the store closes. */
const JOIN_TIMEOUT_MS = 10_000;

export class CheckpointWorker {
  private readonly worker: Worker;
  /** Shared with the thread: [0] its connection is closed, [1] a pass is running. */
  private readonly state = new Int32Array(new SharedArrayBuffer(8));
  private running = false;
  private stopped = false;
  private opened = false;

  private constructor(
    file: string,
    module: string,
    options: { nativeBinding?: string; busyTimeoutMs: number },
    private readonly events: CheckpointerEvents,
  ) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        file,
        module,
        nativeBinding: options.nativeBinding,
        busyTimeoutMs: options.busyTimeoutMs,
        state: this.state.buffer,
      },
    });
    // Checkpoints are housekeeping: they never keep the program alive.
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => this.received(reply));
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => {
      this.fail(new Error(`the checkpoint thread stopped (exit code ${code})`));
    });
  }

  /** A worker for the store's file, or null where none can be started (then checkpoint inline). */
  static start(
    file: string,
    options: { nativeBinding?: string; busyTimeoutMs: number },
    events: CheckpointerEvents,
  ): CheckpointWorker | null {
    const module = sqliteModulePath();
    if (module === null) return null;
    return new CheckpointWorker(file, module, options, events);
  }

  /** The thread has opened its connection (until then, and after a failure, checkpoint inline). */
  get ready(): boolean {
    return this.opened && !this.stopped;
  }

  /** Ready and no pass running. */
  get idle(): boolean {
    return this.ready && !this.running;
  }

  /** Asks for one passive checkpoint; its outcome arrives through onPass. */
  request(): boolean {
    if (!this.idle) return false;
    this.running = true;
    // Set here, not by the thread when it begins: a checkpoint asked for right after this call
    // must wait for the pass although the thread has not picked it up yet.
    Atomics.store(this.state, 1, 1);
    this.worker.postMessage('checkpoint');
    return true;
  }

  /**
   * Stops the worker and waits (synchronously, so that the store's close stays synchronous) until
   * it has finished a pass in progress and closed its connection: the store's own connection must
   * be the last one, so that its close checkpoints the whole log and removes it.
   */
  close(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.worker.postMessage('close');
    Atomics.wait(this.state, 0, 0, JOIN_TIMEOUT_MS);
    void this.worker.terminate();
  }

  /**
   * Waits (synchronously) until a pass under way has finished, so that a checkpoint the store is
   * asked for (truncate before a backup, say) does not find the log busy with this one.
   */
  waitForPass(): void {
    if (this.stopped) return;
    const deadline = performance.now() + JOIN_TIMEOUT_MS;
    while (Atomics.load(this.state, 1) === 1) {
      const left = deadline - performance.now();
      if (left <= 0) return;
      Atomics.wait(this.state, 1, 1, left);
    }
  }

  /** Ends the thread without the close protocol, as a crash would (for tests). */
  kill(): Promise<number> {
    return this.worker.terminate();
  }

  private received(reply: Reply): void {
    if (this.stopped) return;
    if (reply.type === 'ready') {
      this.opened = true;
      return;
    }
    this.running = false;
    if (reply.type === 'pass') {
      this.events.onPass({
        busy: reply.busy,
        walPages: reply.walPages,
        checkpointedPages: reply.checkpointedPages,
      });
      return;
    }
    const error = Object.assign(new Error(reply.message), reply.code ? { code: reply.code } : {});
    this.fail(error);
  }

  private fail(error: Error): void {
    if (this.stopped) return;
    this.stopped = true;
    this.running = false;
    this.worker.postMessage('close');
    void this.worker.terminate();
    this.events.onFailure(error);
  }
}

/**
 * Where the loaded better-sqlite3 lives: the module whose exports are the Database class the
 * store uses, so the worker loads the very same copy. In the packaged desktop app that path lies
 * inside app.asar, which Electron reads in worker threads as in the main thread (its native
 * binding, unpacked by electron-builder.yml, and the `bindings` module it needs, packed).
 */
function sqliteModulePath(): string | null {
  const cache = createRequire(path.join(process.cwd(), 'index.js')).cache;
  const entry = Object.values(cache).find((module) => module?.exports === Database);
  return entry ? unpackedPath(entry.filename, existsSync) : null;
}

/**
 * In a packaged app the module's path lies inside app.asar, which a worker thread may not read;
 * electron-builder.yml unpacks better-sqlite3 whole, so the thread loads the unpacked copy.
 */
export function unpackedPath(filename: string, exists: (file: string) => boolean): string {
  const inside = `app.asar${path.sep}`;
  const at = filename.lastIndexOf(inside);
  if (at < 0) return filename;
  const unpacked = `${filename.slice(0, at)}app.asar.unpacked${path.sep}${filename.slice(at + inside.length)}`;
  return exists(unpacked) ? unpacked : filename;
}
