import { EventEmitter } from 'node:events';
import type { SerialSettings } from '../../src-shared/config';
import type { ByteStream } from './connection';

/**
 * An open serial port as the link uses it. `serialport`'s SerialPort fits as it is; tests pass a
 * fake. Errors after opening (a read failing, a write failing, the device gone) arrive as
 * 'error' or as the error of 'close'.
 */
export interface SerialPortHandle {
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'close', listener: (error?: Error | null) => void): unknown;
  write(bytes: Buffer, done: (error?: Error | null) => void): unknown;
  /** Bytes handed to `write` and not yet written to the port. */
  readonly writableLength: number;
  close(done: (error?: Error | null) => void): unknown;
}

/** How the serial link reaches the machine's ports; tests inject their own. */
export interface SerialPorts {
  /** Opens the port with the line settings; rejects with the reason when it cannot. */
  open(settings: SerialSettings): Promise<SerialPortHandle>;
  /**
   * Which device the path names now (changes when the device is replaced under the same path),
   * or null when there is none: how a port that vanished without an error is noticed.
   */
  identify(path: string): Promise<string | null>;
}

/**
 * An open port made to look like the byte stream a connection expects: data in, writes out,
 * end (let the writes finish, then close) and destroy (close now), one 'close' at the end.
 */
export class SerialStream extends EventEmitter implements ByteStream {
  private pendingWrites = 0;
  private ending = false;
  private closing = false;
  private closed = false;

  constructor(private readonly port: SerialPortHandle) {
    super();
    port.on('data', (chunk) => {
      if (!this.closed) this.emit('data', chunk);
    });
    port.on('error', (error) => this.fail(error));
    port.on('close', (error) => {
      if (error) this.fail(error);
      this.finish();
    });
  }

  get writable(): boolean {
    return !this.ending && !this.closing && !this.closed;
  }

  get writableLength(): number {
    if (this.closed) return 0;
    try {
      return this.port.writableLength;
    } catch {
      return 0;
    }
  }

  write(bytes: Buffer): boolean {
    if (!this.writable) return false;
    this.pendingWrites++;
    try {
      this.port.write(bytes, (error) => {
        this.pendingWrites--;
        if (error) this.fail(error);
        else if (this.ending && this.pendingWrites === 0) this.destroy();
      });
    } catch (error) {
      this.pendingWrites--;
      this.fail(error instanceof Error ? error : new Error(String(error)));
      return false;
    }
    return true;
  }

  end(): this {
    if (this.ending || this.closed) return this;
    this.ending = true;
    if (this.pendingWrites === 0) this.destroy();
    return this;
  }

  destroy(): this {
    if (this.closing || this.closed) return this;
    this.closing = true;
    try {
      this.port.close(() => this.finish());
    } catch {
      this.finish();
    }
    return this;
  }

  /** A failing port is closed; the error goes out first so the connection keeps it as the reason. */
  private fail(error: Error): void {
    if (this.closed) return;
    this.emit('error', error);
    this.destroy();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.closing = true;
    this.emit('close');
  }
}
