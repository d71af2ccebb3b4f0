// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { InstrumentsPage } from '../../src-renderer/instruments/InstrumentsPage';
import { instrumentConfigSchema, type InstrumentConfig } from '../../src-shared/config';
import { fromAmount, toAmount } from '../../src-renderer/instruments/duration';
import {
  fieldOf,
  newFormValues,
  readForm,
  toFormValues,
} from '../../src-renderer/instruments/form-values';
import { useAppStore } from '../../src-renderer/store';
import { makeConfig, makeStatus } from './fake-api';
import { descriptionOf, settle, withTestGateway } from './harness';

const gateway = withTestGateway();

function type(label: string, value: string) {
  fireEvent.change(screen.getByLabelText(label), { target: { value } });
}

function openNew() {
  useAppStore.getState().openEditor({ kind: 'new' });
  render(<InstrumentsPage />);
}

async function openExisting(config = makeConfig()) {
  useAppStore.getState().applyStatuses([makeStatus({ id: 'cobas', name: 'Cobas' })]);
  gateway.fake.commands.getInstrument.mockResolvedValue({
    ok: true,
    value: { config, status: makeStatus({ id: 'cobas', name: 'Cobas' }) },
  });
  useAppStore.getState().openEditor({ kind: 'edit', id: 'cobas' });
  render(<InstrumentsPage />);
  await settle();
}

describe('form values', () => {
  it('maps problem paths from the schema and the server to form fields', () => {
    expect(fieldOf('port')).toBe('port');
    expect(fieldOf('config.port')).toBe('port');
    expect(fieldOf('instruments[0].reconnect.maxDelayMs')).toBe('reconnect.maxDelayMs');
    expect(fieldOf('allowedPeers[2]')).toBe('allowedPeers');
    expect(fieldOf('silence')).toBe('silence.after');
    expect(fieldOf('instruments[0].silence.afterMs')).toBe('silence.after');
    expect(fieldOf('(request)')).toBeNull();
  });

  it('checks the form with the config schema', () => {
    const values = { ...newFormValues(), id: 'cobas', port: '70000', keepAliveMs: 'soon' };
    const read = readForm(values);
    expect(read.ok).toBe(false);
    if (read.ok) return;
    expect(read.errors.port).toBe('must be between 1 and 65535');
    expect(read.errors.keepAliveMs).toBe('must be a number');
    expect(readForm({ ...values, port: '5000', keepAliveMs: '' }).ok).toBe(true);
  });
});

describe('Instrument editor', () => {
  it('shows the schema’s problem next to the field and does not send the form', async () => {
    openNew();
    type('ID', 'cobas');
    type('Port', '70000');
    fireEvent.click(screen.getByRole('button', { name: 'Create instrument' }));
    await settle();
    const port = screen.getByLabelText('Port');
    expect(port.getAttribute('aria-invalid')).toBe('true');
    expect(descriptionOf(port)).toContain('must be between 1 and 65535');
    expect(gateway.fake.commands.createInstrument).not.toHaveBeenCalled();

    type('Port', '5000');
    expect(descriptionOf(screen.getByLabelText('Port'))).not.toContain('must be between');
  });

  it('shows the server’s field problems next to the fields', async () => {
    gateway.fake.commands.createInstrument.mockResolvedValue({
      ok: false,
      error: {
        code: 'INVALID_CONFIG',
        message: 'the instrument settings are not valid',
        fields: [
          { field: 'port', message: 'port 5000 on 0.0.0.0 is already used by Sysmex' },
          { field: 'reconnect.maxDelayMs', message: 'must be at least the first delay' },
        ],
      },
    });
    openNew();
    type('ID', 'cobas');
    type('Port', '5000');
    fireEvent.click(screen.getByRole('button', { name: 'Create instrument' }));
    await settle();
    expect(gateway.fake.commands.createInstrument).toHaveBeenCalledTimes(1);
    const sent = gateway.fake.commands.createInstrument.mock.calls[0]![0].config;
    expect(sent).toMatchObject({ id: 'cobas', port: 5000, protocol: 'astm', mode: 'server' });
    expect(descriptionOf(screen.getByLabelText('Port'))).toContain(
      'port 5000 on 0.0.0.0 is already used by Sysmex',
    );
    // The Advanced section opens by itself when a problem is inside it.
    expect(descriptionOf(screen.getByLabelText('Longest delay (ms)'))).toContain(
      'must be at least the first delay',
    );
  });

  it('adds an instrument and then shows it for editing', async () => {
    gateway.fake.commands.createInstrument.mockResolvedValue({
      ok: true,
      value: makeStatus({ id: 'cobas', name: 'Cobas', mode: 'server', state: 'listening' }),
    });
    gateway.fake.commands.getInstrument.mockResolvedValue({
      ok: true,
      value: { config: makeConfig({ mode: 'server' }), status: makeStatus({ id: 'cobas' }) },
    });
    openNew();
    type('ID', 'cobas');
    type('Name', 'Cobas');
    type('Port', '5000');
    fireEvent.click(screen.getByRole('button', { name: 'Create instrument' }));
    await settle();
    expect(useAppStore.getState().instruments.byId.cobas?.state).toBe('listening');
    expect(useAppStore.getState().ui.editor).toEqual({ kind: 'edit', id: 'cobas' });
    expect(screen.getByRole('heading', { name: 'Edit Cobas' })).toBeTruthy();
  });

  it('edits an existing instrument with the id fixed', async () => {
    await openExisting();
    const id = screen.getByLabelText('ID') as HTMLInputElement;
    expect(id.value).toBe('cobas');
    expect(id.readOnly).toBe(true);
    type('Port', '5001');
    fireEvent.click(screen.getByRole('button', { name: 'Save changes' }));
    await settle();
    expect(gateway.fake.commands.updateInstrument).toHaveBeenCalledWith({
      config: expect.objectContaining({ id: 'cobas', port: 5001 }),
    });
  });

  it('asks before removing an instrument', async () => {
    await openExisting();
    fireEvent.click(screen.getByRole('button', { name: 'Remove' }));
    const dialog = screen.getByRole('alertdialog', { name: 'Remove Cobas?' });
    expect(gateway.fake.commands.deleteInstrument).not.toHaveBeenCalled();
    expect(document.activeElement).toBe(within(dialog).getByRole('button', { name: 'Cancel' }));

    fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('alertdialog')).toBeNull();
    expect(gateway.fake.commands.deleteInstrument).not.toHaveBeenCalled();

    fireEvent.click(screen.getByRole('button', { name: 'Remove' }));
    fireEvent.click(screen.getByRole('button', { name: 'Remove instrument' }));
    await settle();
    expect(gateway.fake.commands.deleteInstrument).toHaveBeenCalledWith({ id: 'cobas' });
    expect(useAppStore.getState().instruments.byId.cobas).toBeUndefined();
    expect(useAppStore.getState().ui.editor).toBeNull();
  });

  it('tests the connection of a client link and says what happened', async () => {
    gateway.fake.commands.testConnection.mockResolvedValue({
      ok: true,
      value: { ok: false, message: 'connection refused by 10.0.0.5:5000', elapsedMs: 4 },
    });
    await openExisting();
    fireEvent.click(screen.getByRole('button', { name: 'Test connection' }));
    await settle();
    expect(gateway.fake.commands.testConnection).toHaveBeenCalledWith({
      host: '10.0.0.5',
      port: 5000,
      timeoutMs: 10_000,
    });
    expect(screen.getByText(/connection refused by 10.0.0.5:5000/).textContent).toContain(
      'Not reachable',
    );
  });

  it('offers the connection test only for client links', () => {
    openNew();
    expect(screen.queryByRole('button', { name: 'Test connection' })).toBeNull();
    fireEvent.change(screen.getByLabelText('Mode'), { target: { value: 'client' } });
    expect(screen.getByRole('button', { name: 'Test connection' })).toBeTruthy();
  });

  it('labels every control', async () => {
    await openExisting();
    fireEvent.click(screen.getByText('Advanced'));
    const controls = document.querySelectorAll('input, select, textarea, button');
    for (const control of controls) {
      const labelled =
        (control as HTMLInputElement).labels?.length ||
        control.getAttribute('aria-label') ||
        (control.tagName === 'BUTTON' && control.textContent?.trim());
      expect(labelled, control.outerHTML).toBeTruthy();
    }
  });
});

describe('silence alarm period', () => {
  const silence = { afterMs: 5_400_000, fromHour: 7, toHour: 19 };
  const afterField = () => screen.getByLabelText('Warn after') as HTMLInputElement;
  const unitField = () => screen.getByLabelText('Unit of Warn after') as HTMLSelectElement;
  const save = async () => {
    fireEvent.click(screen.getByRole('button', { name: 'Save changes' }));
    await settle();
  };
  const savedSilence = () =>
    (gateway.fake.commands.updateInstrument.mock.calls.at(-1)![0].config as InstrumentConfig)
      .silence;

  it('reads milliseconds as minutes or whole hours and back', () => {
    expect(toAmount(5_400_000)).toEqual({ amount: '90', unit: 'minutes' });
    expect(toAmount(7_200_000)).toEqual({ amount: '2', unit: 'hours' });
    expect(toAmount(600_000)).toEqual({ amount: '10', unit: 'minutes' });
    expect(toAmount(90_000)).toEqual({ amount: '1.5', unit: 'minutes' });
    // A period set in a file to the second is kept to the second.
    const odd = toAmount(90_500);
    expect(fromAmount(odd.amount, odd.unit)).toEqual({ ok: true, ms: 90_500 });
    expect(fromAmount('1.5', 'hours')).toEqual({ ok: true, ms: 5_400_000 });
    expect(fromAmount(' 45 ', 'minutes')).toEqual({ ok: true, ms: 2_700_000 });
  });

  it('shows an instrument’s 5,400,000 ms as 90 minutes and saves it unchanged', async () => {
    await openExisting(makeConfig({ silence }));
    expect(afterField().value).toBe('90');
    expect(unitField().value).toBe('minutes');
    await save();
    expect(savedSilence()).toEqual(silence);
  });

  it('saves 2 hours as 7,200,000 ms and leaves the hours of the day as they are', async () => {
    await openExisting(makeConfig({ silence }));
    type('Warn after', '2');
    fireEvent.change(unitField(), { target: { value: 'hours' } });
    await save();
    expect(savedSilence()).toEqual({ afterMs: 7_200_000, fromHour: 7, toHour: 19 });
  });

  it('says in plain words what is wrong with the period and does not save', async () => {
    await openExisting(makeConfig({ silence }));
    for (const [text, problem] of [
      ['0.5', 'must be at least 1 minute'],
      ['soon', 'must be a number'],
      ['', 'must not be empty'],
    ]) {
      type('Warn after', text!);
      await save();
      expect(afterField().getAttribute('aria-invalid')).toBe('true');
      expect(descriptionOf(afterField())).toContain(problem);
    }
    expect(gateway.fake.commands.updateInstrument).not.toHaveBeenCalled();
    type('Warn after', '1');
    await save();
    expect(savedSilence()).toEqual({ ...silence, afterMs: 60_000 });
  });

  it('places the gateway’s problem with afterMs next to the period', async () => {
    gateway.fake.commands.updateInstrument.mockResolvedValue({
      ok: false,
      error: {
        code: 'INVALID_CONFIG',
        message: 'the instrument settings are not valid',
        fields: [{ field: 'silence.afterMs', message: 'must be at least 1000 ms' }],
      },
    });
    await openExisting(makeConfig({ silence }));
    await save();
    expect(descriptionOf(afterField())).toContain('must be at least 1000 ms');
  });
});

describe('what saving does to a connected analyzer', () => {
  it('says before saving whether the link reconnects, and after saving what happened', async () => {
    useAppStore
      .getState()
      .applyStatuses([makeStatus({ id: 'cobas', name: 'Cobas', peers: ['10.0.0.7:4001'] })]);
    await openExisting();
    expect(screen.queryByRole('note')).toBeNull();

    type('Name', 'Cobas 2');
    expect(screen.getByRole('note').textContent).toBe(
      'These changes apply without reconnecting the analyzer.',
    );
    type('Port', '5009');
    const warning = screen.getByRole('note').textContent ?? '';
    expect(warning).toContain('Saving reconnects the link because the port changed');
    expect(warning).toContain('a message in progress is finished first');
    type('Port', String(makeConfig().port));

    fireEvent.click(screen.getByRole('button', { name: 'Save changes' }));
    await settle();
    expect(
      screen.getByText('Changes saved and applied; the analyzer stayed connected.'),
    ).toBeTruthy();
    // The heading names the instrument as it is now saved.
    expect(screen.getByRole('heading', { name: 'Edit Cobas 2' })).toBeTruthy();
    expect(screen.queryByRole('note')).toBeNull();
  });
});

/** The schema's settings as dotted paths: `port`, `astm.framing`, `orders.download`. */
function schemaPaths(): string[] {
  type Def = { type: string; innerType?: unknown; shape?: Record<string, unknown> };
  const defOf = (schema: unknown): Def => (schema as { _zod: { def: Def } })._zod.def;
  const unwrap = (schema: unknown): Def => {
    const def = defOf(schema);
    return def.innerType ? unwrap(def.innerType) : def;
  };
  const paths: string[] = [];
  for (const [key, field] of Object.entries(instrumentConfigSchema.shape)) {
    const def = unwrap(field);
    if (def.type === 'object' && def.shape)
      paths.push(...Object.keys(def.shape).map((inner) => `${key}.${inner}`));
    else paths.push(key);
  }
  return paths;
}

/** Settings the editor shows: its form fields, the silence period and the result settings. */
const SHOWN = new Set([
  ...Object.keys(newFormValues()),
  'silence.afterMs',
  'profile',
  'testCodes',
  'qc.sampleIds',
  'qc.messageMarks',
  'qc.forwardTo',
]);

/** A value other than the default for every setting the editor does not show. */
const UNSHOWN_VALUES: Record<string, unknown> = {
  forwardTo: ['lis', 'archive'],
  'orders.download': 'push',
  'orders.hl7Message': 'ORM^O01',
};

function withUnshown(config: InstrumentConfig): InstrumentConfig {
  const input: Record<string, unknown> = structuredClone(config);
  for (const [path, value] of Object.entries(UNSHOWN_VALUES)) {
    const [key, inner] = path.split('.') as [string, string | undefined];
    if (inner === undefined) input[key] = value;
    else input[key] = { ...(input[key] as Record<string, unknown>), [inner]: value };
  }
  return instrumentConfigSchema.parse(input);
}

describe('settings the editor does not show', () => {
  it('has a non-default test value for every schema setting the editor does not show', () => {
    const unshown = schemaPaths().filter((path) => !SHOWN.has(path));
    expect(unshown.sort()).toEqual(Object.keys(UNSHOWN_VALUES).sort());
    const plain = makeConfig();
    const changed = withUnshown(plain);
    for (const path of unshown) {
      const [key, inner] = path.split('.') as [keyof InstrumentConfig, string | undefined];
      const read = (config: InstrumentConfig) =>
        inner === undefined ? config[key] : (config[key] as Record<string, unknown>)[inner];
      expect(read(changed), path).toEqual(UNSHOWN_VALUES[path]);
      expect(read(plain), path).not.toEqual(UNSHOWN_VALUES[path]);
    }
  });

  it('keeps orders pushed (and its other unshown settings) when an instrument is renamed', async () => {
    const config = makeConfig({ orders: { download: 'push', hl7Message: 'OML^O33' } });
    await openExisting({ ...config, forwardTo: ['lis'] });
    type('Name', 'Cobas 2');
    fireEvent.click(screen.getByRole('button', { name: 'Save changes' }));
    await settle();
    expect(gateway.fake.commands.updateInstrument).toHaveBeenCalledTimes(1);
    const saved = gateway.fake.commands.updateInstrument.mock.calls[0]![0]
      .config as InstrumentConfig;
    expect(saved.name).toBe('Cobas 2');
    expect(saved.orders).toEqual({ download: 'push', hl7Message: 'OML^O33' });
    expect(saved.forwardTo).toEqual(['lis']);
    expect(
      screen.getByText('Changes saved and applied; the analyzer stayed connected.'),
    ).toBeTruthy();
  });

  it('saves every unshown setting unchanged, for TCP and serial links', async () => {
    const bases = [
      makeConfig(),
      makeConfig({
        transport: 'serial',
        mode: undefined,
        port: undefined,
        serial: {
          path: '/dev/ttyUSB0',
          baudRate: 9600,
          dataBits: 8,
          parity: 'none',
          stopBits: 1,
          flowControl: 'none',
        },
        protocol: 'hl7',
      }),
    ];
    for (const base of bases) {
      const config = withUnshown(base);
      await openExisting(config);
      fireEvent.click(screen.getByRole('button', { name: 'Save changes' }));
      await settle();
      const saved = gateway.fake.commands.updateInstrument.mock.lastCall![0].config;
      expect(saved).toEqual(config);
      expect(screen.getByText('Saved; nothing had changed.')).toBeTruthy();
      cleanup();
    }
  });

  it('lays the form over the gateway’s config: unshown keys kept, emptied fields removed', () => {
    const base = withUnshown(makeConfig({ silence: { afterMs: 60_000, fromHour: 0, toHour: 24 } }));
    const values = { ...toFormValues(base), name: '', silenceAlarm: false };
    const read = readForm(values, base);
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.config.name).toBeUndefined();
    expect(read.config.silence).toBeUndefined();
    expect(read.config.orders).toEqual(base.orders);
    expect(read.config.forwardTo).toEqual(base.forwardTo);
    // Without the gateway's config (a new instrument) the defaults apply.
    const fresh = readForm(values);
    expect(fresh.ok && fresh.config.orders.download).toBe('query');
  });

  it('names a problem with an unshown setting instead of failing silently', () => {
    const base = withUnshown(makeConfig());
    const read = readForm({ ...toFormValues(base), 'astm.framing': 'raw' }, base);
    expect(read.ok).toBe(false);
    if (read.ok) return;
    expect(read.general.join('\n')).toContain('orders.download');
  });
});
