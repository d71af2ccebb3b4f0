/**
 * How a payload reaches each kind of destination, and what its answer means: delivered, failed
 * for good (the destination refused it, with its own words) or to be retried later.
 */
import { promises as fsp, readFileSync } from 'node:fs';
import path from 'node:path';
import type { DestinationConfig } from '../../src-shared/config';
import { createClientLink } from '../links/client-link';
import { createHttpPoster, type HttpPoster } from '../links/http-post';
import type { Link, LinkConnection, LinkEvent } from '../links/types';
import type { Clock } from '../protocols/clock';
import { Hl7Sender, type Hl7SenderEvent } from '../protocols/hl7/sender';
import type { Payload } from './payloads';

export type SendOutcome =
  | { kind: 'delivered'; answer: string | null }
  | { kind: 'failed'; answer: string | null; error: string }
  | { kind: 'retry'; answer: string | null; error: string };

export interface TransportDeps {
  clock: Clock;
  random?: () => number;
  /** Connection changes and what the destination said that fits no message, in plain words. */
  note: (level: 'info' | 'warn' | 'error', code: string | null, message: string) => void;
  /** The transport can take sends now (e.g. the LIS connection is up). */
  ready: () => void;
  env?: NodeJS.ProcessEnv;
}

export interface Transport {
  /** Sends in flight at once at most. */
  readonly window: number;
  /** Null when sends can go now; otherwise why not, in plain words. */
  readonly notReady: string | null;
  start(): void;
  send(payload: Payload): Promise<SendOutcome>;
  close(): Promise<void>;
}

export function createTransport(config: DestinationConfig, deps: TransportDeps): Transport {
  if (config.type === 'hl7') return new Hl7Transport(config, deps);
  if (config.type === 'http') return new HttpTransport(config, deps);
  return new FileTransport(config);
}

type Hl7DestinationConfig = Extract<DestinationConfig, { type: 'hl7' }>;

interface Hl7Session {
  connection: LinkConnection;
  sender: Hl7Sender;
  waiting: Map<string, { payload: Payload; resolve: (outcome: SendOutcome) => void }>;
}

/** ORU^R01 over MLLP through a client link: reconnects on its own, one sender per connection. */
class Hl7Transport implements Transport {
  readonly window: number;
  private readonly link: Link;
  private session: Hl7Session | null = null;
  private lastProblem = 'not connected yet';

  constructor(
    private readonly config: Hl7DestinationConfig,
    private readonly deps: TransportDeps,
  ) {
    this.window = config.window;
    this.link = createClientLink({
      id: `destination:${config.id}`,
      host: config.host,
      port: config.port,
      connectTimeoutMs: config.connectTimeoutMs,
      keepAliveMs: config.keepAliveMs,
      reconnect: config.reconnect,
      clock: deps.clock,
      ...(deps.random ? { random: deps.random } : {}),
      handlerFactory: (connection) => this.handlerFor(connection),
      onEvent: (event) => this.onLinkEvent(event),
    });
  }

  get notReady(): string | null {
    return this.session === null ? this.lastProblem : null;
  }

  start(): void {
    this.link.start();
  }

  send(payload: Payload): Promise<SendOutcome> {
    const session = this.session;
    if (session === null) {
      return Promise.resolve({ kind: 'retry', answer: null, error: this.lastProblem });
    }
    return new Promise<SendOutcome>((resolve) => {
      session.waiting.set(payload.controlId, { payload, resolve });
      try {
        session.sender.send(payload.text);
      } catch (error) {
        session.waiting.delete(payload.controlId);
        resolve({
          kind: 'failed',
          answer: null,
          error: `the gateway could not send it: ${(error as Error).message}`,
        });
      }
    });
  }

  async close(): Promise<void> {
    await this.link.close(1_000);
    this.endSession('the destination was stopped');
  }

  private handlerFor(connection: LinkConnection) {
    const session: Hl7Session = {
      connection,
      waiting: new Map(),
      sender: new Hl7Sender({
        clock: this.deps.clock,
        ackTimeoutMs: this.config.ackTimeoutMs,
        window: this.config.window,
        defaultCharset: this.config.encoding,
        onEvent: (event) => this.onSenderEvent(session, event),
      }),
    };
    this.session = session;
    queueMicrotask(() => this.deps.ready());
    return {
      buffered: 0,
      get busy() {
        return session.waiting.size > 0;
      },
      onData: (chunk: Buffer) => session.sender.receive(chunk),
      onClose: (reason: { message: string }) => {
        if (this.session === session) this.session = null;
        this.lastProblem = `the connection to the LIS ended: ${reason.message}`;
        this.settleAll(session, `the connection ended before the LIS answered (${reason.message})`);
      },
    };
  }

  private endSession(why: string): void {
    const session = this.session;
    this.session = null;
    if (session) this.settleAll(session, why);
  }

  private settleAll(session: Hl7Session, why: string): void {
    session.sender.close();
    for (const { resolve } of session.waiting.values()) {
      resolve({ kind: 'retry', answer: null, error: why });
    }
    session.waiting.clear();
  }

  private onSenderEvent(session: Hl7Session, event: Hl7SenderEvent): void {
    switch (event.type) {
      case 'send':
        session.connection.write(event.bytes);
        return;
      case 'committed':
        return;
      case 'acked': {
        const waiter = session.waiting.get(event.id);
        session.waiting.delete(event.id);
        waiter?.resolve({ kind: 'delivered', answer: event.ack.toString() });
        return;
      }
      case 'rejected': {
        const waiter = session.waiting.get(event.id);
        session.waiting.delete(event.id);
        waiter?.resolve({
          kind: 'failed',
          answer: event.ack?.toString() ?? event.code,
          error: `the LIS answered ${event.code}: ${event.text}`,
        });
        return;
      }
      case 'timeout': {
        const waiter = session.waiting.get(event.id);
        session.waiting.delete(event.id);
        const seconds = this.config.ackTimeoutMs / 1000;
        waiter?.resolve({
          kind: 'retry',
          answer: null,
          error: `the LIS did not answer within ${seconds} s`,
        });
        // Whatever the LIS answers late would be out of step: start on a fresh connection.
        session.connection.close({
          code: 'FORWARD_ACK_TIMEOUT',
          message: `no ACK within ${seconds} s`,
        });
        return;
      }
      case 'error':
        this.deps.note('warn', event.error.code, `the LIS: ${event.error.message}`);
        return;
    }
  }

  private onLinkEvent(event: LinkEvent): void {
    if (event.type === 'error') {
      this.lastProblem = event.message;
      this.deps.note('warn', event.code, event.message);
    } else if (event.type === 'connected') {
      this.deps.note('info', null, `connected to the LIS at ${event.peer}`);
    } else if (event.type === 'disconnected') {
      this.deps.note(
        'warn',
        event.reason.code,
        `connection to the LIS ended: ${event.reason.message}`,
      );
    }
  }
}

type HttpDestinationConfig = Extract<DestinationConfig, { type: 'http' }>;

/** A POST per message: 2xx delivered, 4xx failed (408 and 429 retried), anything else retried. */
class HttpTransport implements Transport {
  readonly window = 1;
  readonly notReady: string | null = null;
  private readonly poster: HttpPoster;
  private readonly headers: Record<string, string>;
  private readonly problem: string | null;

  constructor(config: HttpDestinationConfig, deps: TransportDeps) {
    const env = deps.env ?? process.env;
    const headers: Record<string, string> = {};
    const missing: string[] = [];
    for (const [name, variable] of Object.entries(config.headersFromEnv)) {
      const value = env[variable];
      if (value === undefined || value === '') missing.push(`${variable} (for ${name})`);
      else headers[name] = value;
    }
    let ca: Buffer | undefined;
    let problem: string | null = null;
    if (config.caFile !== undefined) {
      try {
        ca = readFileSync(config.caFile);
      } catch (error) {
        problem = `cannot read the CA file ${config.caFile}: ${(error as Error).message}`;
      }
    }
    if (missing.length > 0) {
      problem = `the environment variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not set`;
    }
    this.problem = problem;
    if (problem) deps.note('error', 'FORWARD_HTTP_SETUP', problem);
    this.headers = headers;
    this.poster = createHttpPoster({
      url: config.url,
      timeoutMs: config.timeoutMs,
      ...(ca ? { ca } : {}),
    });
  }

  start(): void {}

  async send(payload: Payload): Promise<SendOutcome> {
    if (this.problem) return { kind: 'retry', answer: null, error: this.problem };
    let answer;
    try {
      answer = await this.poster.post(payload.text, {
        ...this.headers,
        'Content-Type': payload.contentType,
        'Idempotency-Key': payload.controlId,
      });
    } catch (error) {
      return { kind: 'retry', answer: null, error: (error as Error).message };
    }
    const said = `HTTP ${answer.status}${answer.body.trim() ? `: ${answer.body.trim().slice(0, 300)}` : ''}`;
    if (answer.status >= 200 && answer.status < 300) return { kind: 'delivered', answer: said };
    if (
      answer.status >= 400 &&
      answer.status < 500 &&
      answer.status !== 408 &&
      answer.status !== 429
    ) {
      return { kind: 'failed', answer: said, error: `the LIS refused it: ${said}` };
    }
    return { kind: 'retry', answer: said, error: `the LIS could not take it now: ${said}` };
  }

  close(): Promise<void> {
    this.poster.close();
    return Promise.resolve();
  }
}

type FileDestinationConfig = Extract<DestinationConfig, { type: 'file' }>;

/**
 * One file per message, named by its control ID: written under a temporary name, flushed to
 * disk, then renamed, so a reader of the folder never sees half a file. A resend overwrites it.
 */
class FileTransport implements Transport {
  readonly window = 1;
  readonly notReady: string | null = null;

  constructor(private readonly config: FileDestinationConfig) {}

  start(): void {}

  async send(payload: Payload): Promise<SendOutcome> {
    const name = `${payload.controlId}.${this.config.format === 'csv' ? 'csv' : payload.extension}`;
    const target = path.join(this.config.directory, name);
    const temp = path.join(this.config.directory, `.${name}.tmp`);
    try {
      await fsp.writeFile(temp, payload.text, { encoding: 'utf8', flush: true });
      await fsp.rename(temp, target);
    } catch (error) {
      await fsp.rm(temp, { force: true }).catch(() => undefined);
      const code = (error as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT'
          ? `the folder ${this.config.directory} does not exist`
          : code === 'EACCES' || code === 'EPERM'
            ? `the gateway may not write into ${this.config.directory}`
            : code === 'ENOSPC'
              ? `the disk of ${this.config.directory} is full`
              : `could not write ${target}: ${(error as Error).message}`;
      return { kind: 'retry', answer: null, error: why };
    }
    return { kind: 'delivered', answer: `written to ${target}` };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
