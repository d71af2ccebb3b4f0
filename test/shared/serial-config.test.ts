import { describe, expect, it } from 'vitest';
import {
  describeLine,
  instrumentConfigSchema,
  parseGatewayConfig,
  serialSettingsSchema,
} from '../../src-shared/config';

describe('serial settings in the configuration', () => {
  it('default to 9600 8N1 without flow control, with mode, host and port left out', () => {
    const config = instrumentConfigSchema.parse({
      id: 'rs1',
      protocol: 'astm',
      transport: 'serial',
      serial: { path: '/dev/ttyUSB0' },
    });
    expect(config.serial).toEqual({
      path: '/dev/ttyUSB0',
      baudRate: 9600,
      dataBits: 8,
      parity: 'none',
      stopBits: 1,
      flowControl: 'none',
    });
    expect(config.mode).toBeUndefined();
    expect(config.port).toBeUndefined();
    expect(describeLine(config.serial!)).toBe('9600 8N1');
    expect(
      describeLine(
        serialSettingsSchema.parse({
          path: 'COM3',
          baudRate: 19200,
          dataBits: 7,
          parity: 'even',
          stopBits: 2,
          flowControl: 'xonxoff',
        }),
      ),
    ).toBe('19200 7E2 XON/XOFF');
  });

  it('name the field that is wrong or missing, for TCP and for serial', () => {
    const problems = (instrument: object) => {
      const parsed = parseGatewayConfig({ instruments: [instrument] });
      return parsed.ok ? [] : parsed.problems.map((p) => `${p.field}: ${p.message}`);
    };
    expect(problems({ id: 'a', protocol: 'astm', port: 15001 })).toEqual([
      'instruments[0].mode: must be "server" or "client" for a TCP link',
    ]);
    expect(problems({ id: 'a', protocol: 'astm', mode: 'server' })).toEqual([
      'instruments[0].port: must be given for a TCP link',
    ]);
    expect(problems({ id: 'a', protocol: 'astm', transport: 'serial' })).toEqual([
      'instruments[0].serial: must be given for a serial link, at least {"path": "/dev/ttyUSB0"} or {"path": "COM3"}',
    ]);
    expect(
      problems({
        id: 'a',
        protocol: 'astm',
        transport: 'serial',
        mode: 'client',
        port: 4001,
        serial: { path: 'COM3' },
      }),
    ).toEqual([
      'instruments[0].mode: is not used by a serial link; remove it (the port and line are in "serial")',
      'instruments[0].port: is not used by a serial link; remove it (the port and line are in "serial")',
    ]);
    expect(
      problems({
        id: 'a',
        protocol: 'astm',
        transport: 'serial',
        serial: { path: 'COM3', baudRate: 9601.5, parity: 'strange', dataBits: 9, flow: 'none' },
      }),
    ).toEqual([
      'instruments[0].serial.baudRate: must be a whole number',
      'instruments[0].serial.dataBits: must be 5, 6, 7 or 8',
      'instruments[0].serial.parity: must be "none" or "even" or "odd" or "mark" or "space"',
      'instruments[0].serial: unknown key "flow"',
    ]);
    expect(
      problems({
        id: 'a',
        protocol: 'astm',
        mode: 'client',
        port: 4001,
        serial: { path: 'COM3' },
      }),
    ).toEqual([
      'instruments[0].serial: is only for "transport": "serial"; a TCP link does not read it',
    ]);
  });

  it('refuse one port for two enabled instruments', () => {
    const parsed = parseGatewayConfig({
      instruments: [
        { id: 'a', protocol: 'astm', transport: 'serial', serial: { path: '/dev/ttyS0' } },
        { id: 'b', protocol: 'hl7', transport: 'serial', serial: { path: '/dev/ttyS0' } },
        {
          id: 'c',
          protocol: 'hl7',
          transport: 'serial',
          enabled: false,
          serial: { path: '/dev/ttyS0' },
        },
      ],
    });
    expect(parsed.ok ? [] : parsed.problems).toEqual([
      {
        field: 'instruments[1].serial.path',
        message:
          'the port /dev/ttyS0 is already used by instruments[0]; a serial port can be opened by one link only',
      },
    ]);
  });
});
