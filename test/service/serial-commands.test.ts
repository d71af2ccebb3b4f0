import { describe, expect, it } from 'vitest';
import { probeSerialPort, probeTarget } from '../../src-main/links/probe';
import type { SerialPortHandle, SerialPorts } from '../../src-main/links/serial-stream';
import { instrumentCommands, type InstrumentControl } from '../../src-main/service/instruments';
import { serialSettingsSchema } from '../../src-shared/config';
import type { InstrumentStatus } from '../../src-shared/status';
import { makeStatus } from '../renderer/fake-api';

function commands(statuses: InstrumentStatus[], serialPorts?: () => Promise<never[]>) {
  const probed: unknown[] = [];
  const gateway = { statuses: () => statuses } as unknown as InstrumentControl;
  const handlers = instrumentCommands({
    gateway,
    probe: (target) => {
      probed.push(target);
      return Promise.resolve({ ok: true, message: 'probed', elapsedMs: 1 });
    },
    serialPorts,
  });
  return { handlers, probed };
}

const line = serialSettingsSchema.parse({ path: '/dev/ttyUSB0' });

describe('serial commands', () => {
  it('lists the ports, or says why it cannot', async () => {
    const listed = commands([], () => Promise.resolve([]));
    await expect(listed.handlers.listSerialPorts({})).resolves.toEqual({
      ports: [],
      problem: null,
    });
    const failing = commands([], () => Promise.reject(new Error('udev is not running')));
    await expect(failing.handlers.listSerialPorts({})).resolves.toEqual({
      ports: [],
      problem: 'the serial ports could not be listed: udev is not running',
    });
    const none = commands([]);
    expect((await none.handlers.listSerialPorts({})).problem).toMatch(/cannot be listed here/);
  });

  it('does not open a port a running link of this gateway holds, and says whose it is', async () => {
    const holder = makeStatus({
      name: 'Urine analyzer',
      transport: 'serial',
      serial: line,
      state: 'connected',
    });
    const { handlers, probed } = commands([holder]);
    expect(await handlers.testConnection({ serial: line })).toEqual({
      ok: true,
      message: '/dev/ttyUSB0 is open: the link of "Urine analyzer" in this gateway uses it',
      elapsedMs: 0,
    });
    expect(probed).toEqual([]);
    await handlers.testConnection({ serial: { ...line, path: '/dev/ttyUSB1' } });
    expect(probed).toHaveLength(1);
  });
});

describe('probing a serial port', () => {
  const ports = (outcome: Error | 'open'): SerialPorts & { closed: number } => {
    const fake = {
      closed: 0,
      open: () =>
        outcome === 'open'
          ? Promise.resolve({
              on: () => undefined,
              write: () => undefined,
              writableLength: 0,
              close: (done: () => void) => {
                fake.closed++;
                done();
              },
            } as unknown as SerialPortHandle)
          : Promise.reject(outcome),
      identify: () => Promise.resolve('dev'),
    };
    return fake;
  };

  it('opens and closes the port, and says what that does and does not show', async () => {
    const fake = ports('open');
    const result = await probeSerialPort({ serial: line }, { ports: fake });
    expect(result).toMatchObject({ ok: true, code: 'LINK_PROBE_PORT_OPENED' });
    expect(result.message).toBe(
      '/dev/ttyUSB0 opened with 9600 8N1 and was closed again; whether the analyzer answers shows once it sends',
    );
    expect(fake.closed).toBe(1);
  });

  it('reports a busy port as in use by another program', async () => {
    const result = await probeTarget(
      { serial: { path: '/dev/ttyUSB0' } },
      { ports: ports(new Error('Error Resource temporarily unavailable Cannot lock port')) },
    );
    expect(result).toMatchObject({ ok: false, code: 'LINK_PROBE_PORT_BUSY' });
    expect(result.message).toMatch(
      /^could not open \/dev\/ttyUSB0: \/dev\/ttyUSB0 is in use by another program/,
    );
  });
});
