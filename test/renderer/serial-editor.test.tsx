// @vitest-environment jsdom
import { fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { InstrumentCard } from '../../src-renderer/dashboard/InstrumentCard';
import { InstrumentsPage } from '../../src-renderer/instruments/InstrumentsPage';
import { describePort } from '../../src-renderer/instruments/SerialSettingsFields';
import { useAppStore } from '../../src-renderer/store';
import { makeStatus } from './fake-api';
import { settle, withTestGateway } from './harness';

const gateway = withTestGateway();

function type(label: string, value: string) {
  fireEvent.change(screen.getByLabelText(label), { target: { value } });
}

async function openNewSerial() {
  useAppStore.getState().openEditor({ kind: 'new' });
  render(<InstrumentsPage />);
  type('Connection type', 'serial');
  await settle();
}

describe('a serial instrument in the editor', () => {
  it('lists the machine’s ports with manufacturer and serial number, and fills the port in', async () => {
    await openNewSerial();
    expect(gateway.fake.commands.listSerialPorts).toHaveBeenCalled();
    // TCP's fields go away; the line settings come.
    expect(screen.queryByLabelText('Mode')).toBeNull();
    expect(screen.queryByLabelText('Host')).toBeNull();
    const picker = screen.getByLabelText('Ports on this computer');
    expect(picker.textContent).toContain('/dev/ttyUSB0 · FTDI · S/N A10K3XQ');
    fireEvent.change(picker, { target: { value: '/dev/ttyUSB0' } });
    expect((screen.getByLabelText('Port') as HTMLInputElement).value).toBe('/dev/ttyUSB0');
    for (const label of ['Baud rate', 'Data bits', 'Parity', 'Stop bits', 'Flow control'])
      expect(screen.getByLabelText(label)).toBeTruthy();
  });

  it('saves the transport and the line settings, without mode or port', async () => {
    await openNewSerial();
    type('ID', 'urine1');
    type('Port', '/dev/ttyS1');
    type('Baud rate', '19200');
    type('Data bits', '7');
    type('Parity', 'even');
    type('Flow control', 'xonxoff');
    fireEvent.click(screen.getByRole('button', { name: 'Create instrument' }));
    await settle();
    const request = gateway.fake.commands.createInstrument.mock.calls[0]![0] as {
      config: Record<string, unknown>;
    };
    expect(request.config).toMatchObject({
      id: 'urine1',
      transport: 'serial',
      serial: {
        path: '/dev/ttyS1',
        baudRate: 19200,
        dataBits: 7,
        parity: 'even',
        stopBits: 1,
        flowControl: 'xonxoff',
      },
    });
    expect(request.config.mode).toBeUndefined();
    expect(request.config.port).toBeUndefined();
  });

  it('says the port is missing instead of saving', async () => {
    await openNewSerial();
    type('ID', 'urine1');
    fireEvent.click(screen.getByRole('button', { name: 'Create instrument' }));
    await settle();
    expect(gateway.fake.commands.createInstrument).not.toHaveBeenCalled();
    expect(screen.getByText('must not be empty')).toBeTruthy();
  });

  it('tests the port with its line settings', async () => {
    gateway.fake.commands.testConnection.mockResolvedValue({
      ok: true,
      value: {
        ok: false,
        message: 'could not open /dev/ttyS1: /dev/ttyS1 is in use by another program',
        elapsedMs: 2,
      },
    });
    await openNewSerial();
    type('ID', 'urine1');
    type('Port', '/dev/ttyS1');
    fireEvent.click(screen.getByRole('button', { name: 'Test connection' }));
    await settle();
    expect(gateway.fake.commands.testConnection).toHaveBeenCalledWith({
      serial: {
        path: '/dev/ttyS1',
        baudRate: 9600,
        dataBits: 8,
        parity: 'none',
        stopBits: 1,
        flowControl: 'none',
      },
    });
    expect(screen.getByText(/in use by another program/).textContent).toContain(
      'Port does not open',
    );
  });
});

describe('a serial instrument on the dashboard', () => {
  it('shows its port and line settings on the card', () => {
    useAppStore.getState().applyStatuses([
      makeStatus({
        id: 'urine1',
        name: 'Urine analyzer',
        transport: 'serial',
        mode: null,
        port: null,
        serial: {
          path: '/dev/ttyUSB0',
          baudRate: 9600,
          dataBits: 8,
          parity: 'none',
          stopBits: 1,
          flowControl: 'rtscts',
        },
      }),
    ]);
    render(<InstrumentCard id="urine1" />);
    const sub = document.querySelector('.card-sub')!.textContent;
    expect(sub).toContain('serial');
    expect(sub).toContain('/dev/ttyUSB0');
    expect(sub).toContain('9600 8N1 RTS/CTS');
  });

  it('describes a port without a serial number by its USB IDs', () => {
    expect(
      describePort({
        path: 'COM4',
        manufacturer: 'Prolific',
        serialNumber: null,
        vendorId: '067B',
        productId: '2303',
      }),
    ).toBe('COM4 · Prolific · USB 067B:2303');
  });
});
