/**
 * The serial link's state machine with an injected port factory: opening, failing to open (gone,
 * busy, no permission), errors on write and mid-read, a port that vanishes without an error, and
 * reopening with a capped backoff. No real port is touched; the ptys test is serial-pty.test.ts.
 */
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { serialSettingsSchema, type SerialSettingsInput } from '../../src-shared/config';
import { createSerialLink, type SerialLinkOptions } from '../../src-main/links/serial-link';
import type { SerialPortHandle, SerialPorts } from '../../src-main/links/serial-stream';
import { describeSerialError } from '../../src-main/links/words';
import { FakeClock } from '../support/fake-clock';
import { EventLog, lineHandlers, within } from './helpers';

/** A port as the fake system hands it out: the test plays the device on the other end. */
class FakePort extends EventEmitter implements SerialPortHandle {
  written: Buffer[] = [];
  closed = false;
  writableLength = 0;
  failWrites: Error | null = null;

  write(bytes: Buffer, done: (error?: Error | null) => void): void {
    const failure = this.failWrites;
    if (failure) {
      queueMicrotask(() => done(failure));
      return;
    }
    this.written.push(bytes);
    queueMicrotask(() => done(null));
  }

  close(done: (error?: Error | null) => void): void {
    const already = this.closed;
    this.closed = true;
    queueMicrotask(() => {
      done(already ? new Error('Port is not open') : null);
      if (!already) this.emit('close', null);
    });
  }

  /** The device sends bytes. */
  send(text: string): void {
    this.emit('data', Buffer.from(text, 'latin1'));
  }

  writtenText(): string {
    return Buffer.concat(this.written).toString('latin1');
  }
}

/** The machine's ports: each `open` answers with the next planned outcome. */
class FakePorts implements SerialPorts {
  readonly opened: FakePort[] = [];
  readonly settings: unknown[] = [];
  /** What the next opens do: a port, or the error thrown. */
  plan: Array<Error | 'port'> = [];
  /** What `identify` answers for the path; null: gone. */
  device: string | null = 'dev-1';
  private waiting: Array<(port: FakePort) => void> = [];

  open(settings: unknown): Promise<SerialPortHandle> {
    this.settings.push(settings);
    const next = this.plan.shift() ?? 'port';
    if (next !== 'port') return Promise.reject(next);
    const port = new FakePort();
    this.opened.push(port);
    this.waiting.shift()?.(port);
    return Promise.resolve(port);
  }

  identify(): Promise<string | null> {
    return Promise.resolve(this.device);
  }

  private taken = 0;

  /** The next port opened that the test has not taken yet. */
  nextPort(): Promise<FakePort> {
    const index = this.taken++;
    return within(
      new Promise<FakePort>((resolve) => {
        if (this.opened.length > index) resolve(this.opened[index]!);
        else this.waiting.push(resolve);
      }),
      'the port to open',
    );
  }
}

const links: Array<{ close(deadlineMs?: number): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(links.splice(0).map((link) => link.close(0)));
});

function serialLink(
  serial: SerialSettingsInput = { path: '/dev/ttyUSB0' },
  overrides: Partial<SerialLinkOptions> = {},
) {
  const clock = new FakeClock();
  const log = new EventLog();
  const ports = new FakePorts();
  const { handlers, factory } = lineHandlers();
  const link = createSerialLink({
    id: 'rs1',
    serial: serialSettingsSchema.parse(serial),
    clock,
    random: () => 0.5,
    handlerFactory: factory,
    onEvent: log.push,
    ports,
    ...overrides,
  });
  links.push(link);
  return { link, clock, log, ports, handlers };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('serial link', () => {
  it('opens the port with its line settings and runs the handler over it', async () => {
    const { link, log, ports, handlers } = serialLink({
      path: '/dev/ttyUSB0',
      baudRate: 19200,
      dataBits: 7,
      parity: 'even',
      stopBits: 2,
      flowControl: 'rtscts',
    });
    link.start();
    expect(link.status).toMatchObject({
      state: 'connecting',
      reason: 'opening /dev/ttyUSB0 (19200 7E2 RTS/CTS)',
    });
    const port = await ports.nextPort();
    const status = await log.nextStatus('connected');
    expect(status).toMatchObject({
      reason: '/dev/ttyUSB0 is open (19200 7E2 RTS/CTS)',
      peers: ['/dev/ttyUSB0'],
      connections: 1,
    });
    expect(ports.settings[0]).toEqual({
      path: '/dev/ttyUSB0',
      baudRate: 19200,
      dataBits: 7,
      parity: 'even',
      stopBits: 2,
      flowControl: 'rtscts',
    });
    port.send('hel');
    port.send('lo\n');
    await flush();
    expect(port.writtenText()).toBe('hello\n');
    expect(handlers[0]!.received).toBe(6);
    // The trace sees both directions, as for TCP.
    expect(log.ofType('trace').map((t) => t.direction)).toEqual(['in', 'in', 'out']);
  });

  it('says why the port cannot be opened and tries again with a backoff capped at 5 s', async () => {
    const { link, clock, log, ports } = serialLink();
    const missing = new Error('Error: No such file or directory, cannot open /dev/ttyUSB0');
    ports.plan = [missing, missing, missing, missing, missing, 'port'];
    link.start();
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const status = await log.nextStatus('reconnecting');
      expect(status.reason).toMatch(
        /^could not open \/dev\/ttyUSB0: there is no port \/dev\/ttyUSB0: the USB adapter may be unplugged, the device off, or the name wrong; trying again in /,
      );
      delays.push(status.nextRetryAt! - clock.now());
      clock.advance(status.nextRetryAt! - clock.now());
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
    await log.nextStatus('connected');
    expect(log.ofType('error').map((e) => e.code)).toEqual(Array(5).fill('LINK_PORT_NOT_FOUND'));
  });

  it('reports a port held by another program as in use, and a permission problem with what to do', () => {
    expect(
      describeSerialError(
        new Error('Error Resource temporarily unavailable Cannot lock port'),
        '/dev/ttyS0',
        'linux',
      ),
    ).toEqual({
      code: 'LINK_PORT_BUSY',
      message:
        "/dev/ttyS0 is in use by another program (a terminal, the vendor's software or another gateway); close it there",
    });
    expect(
      describeSerialError(
        new Error('Error: Permission denied, cannot open /dev/ttyUSB0'),
        '/dev/ttyUSB0',
        'linux',
      ).message,
    ).toMatch(/dialout group \(sudo usermod -aG dialout USER\)/);
    expect(
      describeSerialError(new Error('Opening COM3: Access denied'), 'COM3', 'win32').code,
    ).toBe('LINK_PORT_BUSY');
    expect(
      describeSerialError(new Error('Opening COM4: File not found'), 'COM4', 'win32').code,
    ).toBe('LINK_PORT_NOT_FOUND');
    expect(
      describeSerialError(
        new Error('Error: Permission denied, cannot open /dev/cu.usbserial'),
        '/dev/cu.usbserial',
        'darwin',
      ).message,
    ).toMatch(/\/dev\/cu\.\* name/);
  });

  it('reopens after an error mid-read, with the port error in plain words', async () => {
    const { link, clock, log, ports, handlers } = serialLink();
    link.start();
    const first = await ports.nextPort();
    await log.nextStatus('connected');
    first.send('part of a li');
    first.emit('error', new Error('Input/output error'));
    const status = await log.nextStatus('reconnecting');
    expect(status.reason).toBe(
      '/dev/ttyUSB0 stopped working (Input/output error); trying again in 1 s',
    );
    expect(first.closed).toBe(true);
    expect(handlers[0]!.closedWith).toMatchObject({ code: 'LINK_SOCKET_ERROR' });
    expect(log.ofType('disconnected')[0]!.reason).toEqual({
      code: 'LINK_PORT_GONE',
      message: '/dev/ttyUSB0 stopped working (Input/output error)',
    });
    clock.advance(1_000);
    const second = await ports.nextPort();
    await log.nextStatus('connected');
    second.send('again\n');
    await flush();
    expect(second.writtenText()).toBe('again\n');
  });

  it('reopens after a failed write', async () => {
    const { link, clock, log, ports } = serialLink();
    link.start();
    const port = await ports.nextPort();
    await log.nextStatus('connected');
    port.failWrites = new Error('Input/output error, cannot write');
    port.send('echo me\n');
    const status = await log.nextStatus('reconnecting');
    expect(status.reason).toMatch(
      /^\/dev\/ttyUSB0 stopped working \(Input\/output error, cannot write\)/,
    );
    clock.advance(1_000);
    await ports.nextPort();
    await log.nextStatus('connected');
  });

  it('notices a port that went away without an error, and one replaced under the same path', async () => {
    const { link, clock, log, ports } = serialLink();
    link.start();
    const first = await ports.nextPort();
    await log.nextStatus('connected');
    clock.advance(1_000);
    await flush();
    expect(first.closed).toBe(false);
    ports.device = null; // unplugged: the path is gone, and reads say nothing
    ports.plan = [new Error('Error: No such file or directory, cannot open /dev/ttyUSB0')];
    clock.advance(1_000);
    const gone = await log.nextStatus('reconnecting');
    expect(gone.reason).toMatch(/^\/dev\/ttyUSB0 went away: the USB adapter may be unplugged/);
    expect(first.closed).toBe(true);
    expect(log.ofType('error').at(-1)).toMatchObject({ code: 'LINK_PORT_GONE' });
    clock.advance(1_000);
    await log.nextStatus('reconnecting'); // still missing
    ports.device = 'dev-2'; // plugged in again
    clock.advance(2_000);
    const second = await ports.nextPort();
    await log.nextStatus('connected');
    // Replaced by another device under the same path (the pty pair made again): reopened too.
    ports.device = 'dev-3';
    clock.advance(1_000);
    await log.nextStatus('reconnecting');
    expect(second.closed).toBe(true);
  });

  it('stays closed after disconnect, reopens on reconnect, and close releases the port', async () => {
    const { link, log, ports } = serialLink();
    link.start();
    const first = await ports.nextPort();
    await log.nextStatus('connected');
    link.disconnect();
    await flush();
    expect(first.closed).toBe(true);
    expect(link.status).toMatchObject({ state: 'error', disconnectedByUser: true });
    link.reconnect();
    const second = await ports.nextPort();
    await log.nextStatus('connected');
    await link.close(0);
    expect(second.closed).toBe(true);
    expect(link.status.state).toBe('disabled');
  });

  it('closes a port that finishes opening after the link was stopped', async () => {
    const { link, ports } = serialLink();
    let release!: () => void;
    const slow = new FakePort();
    ports.open = () =>
      new Promise((resolve) => {
        release = () => resolve(slow);
      });
    link.start();
    const closing = link.close(0);
    release();
    await closing;
    expect(slow.closed).toBe(true);
  });
});
