import { useCallback, useEffect, useState } from 'react';
import { SERIAL_BAUD_RATES } from '../../src-shared/config';
import type { SerialPortInfo } from '../../src-shared/serial';
import { getApi } from '../api';
import { call } from '../store/call';
import { Field } from './fields';
import type { FieldName, FormValues } from './form-values';

type SerialField = Extract<FieldName, `serial.${string}`>;

interface Props {
  formId: string;
  values: FormValues;
  errorOf: (field: FieldName) => string | undefined;
  change: <K extends FieldName>(field: K, value: FormValues[K]) => void;
}

type PortList =
  { step: 'loading' } | { step: 'done'; ports: SerialPortInfo[]; problem: string | null };

/** "/dev/ttyUSB0 · FTDI · S/N A10K3XQ": what the system says of a port, for choosing it. */
export function describePort(port: SerialPortInfo): string {
  const parts = [port.path];
  if (port.manufacturer) parts.push(port.manufacturer);
  if (port.serialNumber) parts.push(`S/N ${port.serialNumber}`);
  else if (port.vendorId && port.productId) parts.push(`USB ${port.vendorId}:${port.productId}`);
  return parts.join(' · ');
}

/** The serial port (chosen from the machine's ports or typed) and its line settings. */
export function SerialSettingsFields({ formId, values, errorOf, change }: Props) {
  const [list, setList] = useState<PortList>({ step: 'loading' });

  const refresh = useCallback(async () => {
    setList({ step: 'loading' });
    const result = await call(() => getApi().listSerialPorts({}));
    setList(
      result.ok
        ? { step: 'done', ports: result.value.ports, problem: result.value.problem }
        : { step: 'done', ports: [], problem: result.error.message },
    );
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const path = values['serial.path'];
  const ports = list.step === 'done' ? list.ports : [];
  const known = ports.some((port) => port.path === path);
  const pickerId = `${formId}-serial-ports`;

  const select = <K extends SerialField>(
    field: K,
    label: string,
    options: readonly (readonly [FormValues[K], string])[],
    hint?: string,
  ) => (
    <Field formId={formId} name={field} label={label} hint={hint} error={errorOf(field)}>
      {(control) => (
        <select
          {...control}
          value={String(values[field])}
          onChange={(event) => change(field, event.target.value as FormValues[K])}
        >
          {options.map(([value, text]) => (
            <option key={String(value)} value={String(value)}>
              {text}
            </option>
          ))}
        </select>
      )}
    </Field>
  );

  const baud = values['serial.baudRate'];
  const baudOptions = SERIAL_BAUD_RATES.map((rate) => [String(rate), String(rate)] as const);
  const standardBaud = baudOptions.some(([rate]) => rate === baud);

  return (
    <>
      <div className="form-grid">
        <div className="field serial-ports">
          <label htmlFor={pickerId}>Ports on this computer</label>
          <div className="port-picker">
            <select
              id={pickerId}
              value={known ? path : ''}
              disabled={list.step === 'loading' || ports.length === 0}
              onChange={(event) => {
                if (event.target.value !== '') change('serial.path', event.target.value);
              }}
            >
              <option value="">
                {list.step === 'loading'
                  ? 'Looking for ports…'
                  : ports.length === 0
                    ? 'No serial ports found'
                    : known
                      ? ''
                      : `Choose one of ${ports.length} port${ports.length === 1 ? '' : 's'}`}
              </option>
              {ports.map((port) => (
                <option key={port.path} value={port.path}>
                  {describePort(port)}
                </option>
              ))}
            </select>
            <button type="button" onClick={() => void refresh()} disabled={list.step === 'loading'}>
              Refresh
            </button>
          </div>
          <p className="field-hint">
            {list.step === 'done' && list.problem
              ? list.problem
              : 'Plug the adapter in, then Refresh. A port not listed can be typed below.'}
          </p>
        </div>
        <Field
          formId={formId}
          name="serial.path"
          label="Port"
          hint="/dev/ttyUSB0 or /dev/serial/by-id/… (Linux), /dev/cu.… (macOS), COM3 (Windows)."
          error={errorOf('serial.path')}
        >
          {(control) => (
            <input
              {...control}
              type="text"
              value={path}
              onChange={(event) => change('serial.path', event.target.value)}
              autoComplete="off"
              spellCheck={false}
            />
          )}
        </Field>
      </div>
      <div className="form-grid serial-line" aria-label="Line settings">
        {select(
          'serial.baudRate',
          'Baud rate',
          standardBaud ? baudOptions : [...baudOptions, [baud, baud] as const],
          'As set on the analyzer.',
        )}
        {select('serial.dataBits', 'Data bits', [
          ['8', '8'],
          ['7', '7'],
          ['6', '6'],
          ['5', '5'],
        ])}
        {select('serial.parity', 'Parity', [
          ['none', 'None'],
          ['even', 'Even'],
          ['odd', 'Odd'],
          ['mark', 'Mark'],
          ['space', 'Space'],
        ])}
        {select('serial.stopBits', 'Stop bits', [
          ['1', '1'],
          ['2', '2'],
        ])}
        {select('serial.flowControl', 'Flow control', [
          ['none', 'None'],
          ['rtscts', 'Hardware (RTS/CTS)'],
          ['xonxoff', 'Software (XON/XOFF)'],
        ])}
      </div>
    </>
  );
}
