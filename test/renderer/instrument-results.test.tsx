// @vitest-environment jsdom
/** The instrument editor's Results section: profile and preview, test-code table and CSV, QC. */
import { fireEvent, render, screen, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { InstrumentsPage } from '../../src-renderer/instruments/InstrumentsPage';
import {
  newResultSettings,
  newRow,
  readResultSettings,
  testCodesFromCsv,
  testCodesToCsv,
  toResultSettings,
} from '../../src-renderer/instruments/result-settings';
import { useAppStore } from '../../src-renderer/store';
import { makeConfig, makeStatus } from './fake-api';
import { settle, withTestGateway } from './harness';

const gateway = withTestGateway();

const CONFIG = makeConfig({
  profile: 'dca-vantage',
  testCodes: {
    Alb: { code: 'UALB', name: 'Urine albumin', exclude: false },
    Ratio: { exclude: true },
  },
  qc: { sampleIds: ['CTRL*'], messageMarks: true, forwardTo: [] },
});

async function openExisting(config = CONFIG) {
  useAppStore.getState().applyStatuses([makeStatus({ id: 'cobas', name: 'Cobas' })]);
  gateway.fake.commands.getInstrument.mockResolvedValue({
    ok: true,
    value: { config, status: makeStatus({ id: 'cobas', name: 'Cobas' }) },
  });
  useAppStore.getState().openEditor({ kind: 'edit', id: 'cobas' });
  render(<InstrumentsPage />);
  await settle();
}

const input = (label: string) => screen.getByLabelText(label) as HTMLInputElement;
const save = async () => {
  fireEvent.click(screen.getByRole('button', { name: 'Save changes' }));
  await settle();
};
const sentConfig = () =>
  gateway.fake.commands.updateInstrument.mock.calls.at(-1)![0].config as Record<string, unknown>;

describe('result settings as form values', () => {
  it('go back to the same config, blank rows left out', () => {
    const values = toResultSettings(CONFIG);
    values.testCodes.push(newRow());
    const read = readResultSettings(values, 'astm');
    expect(read).toEqual({
      ok: true,
      settings: {
        profile: 'dca-vantage',
        testCodes: {
          Alb: { code: 'UALB', name: 'Urine albumin', exclude: false },
          Ratio: { exclude: true },
        },
        qc: { sampleIds: ['CTRL*'], messageMarks: true, forwardTo: [] },
      },
    });
    expect(readResultSettings(newResultSettings(), 'hl7')).toMatchObject({
      ok: true,
      settings: { testCodes: {} },
    });
  });

  it('name empty and doubled codes on their rows, in plain words', () => {
    const rows = [
      newRow({ instrumentCode: 'GLU', lisCode: 'GLUC' }),
      newRow({ lisCode: 'X' }),
      newRow({ instrumentCode: 'GLU' }),
      newRow({ instrumentCode: 'GLU2', lisCode: 'GLUC' }),
      newRow({ instrumentCode: 'GLU3', lisCode: 'GLUC', exclude: true }),
    ];
    const read = readResultSettings({ ...newResultSettings(), testCodes: rows }, 'astm');
    expect(read.ok).toBe(false);
    if (read.ok) return;
    expect(read.errors.rows).toEqual({
      [rows[1]!.key]: { instrumentCode: 'enter the code the analyzer sends' },
      [rows[2]!.key]: { instrumentCode: '"GLU" is already in row 1' },
      [rows[3]!.key]: {
        lisCode:
          'row 1 already sends the LIS code "GLUC"; each LIS code may come from one analyzer code',
      },
    });
  });

  it('refuse a profile of the other protocol and QC settings that cannot be followed', () => {
    const read = readResultSettings(
      { ...newResultSettings(), profile: 'genexpert', qcForwardTo: 'qc lis, ok-1, #bad' },
      'hl7',
    );
    expect(read.ok).toBe(false);
    if (read.ok) return;
    expect(read.errors.profile).toBe('this profile reads ASTM messages; the instrument speaks HL7');
    expect(read.errors.qcForwardTo).toContain('"#bad" must be 1–64 letters');
  });
});

describe('test codes as CSV', () => {
  it('round-trip, commas, quotes and formula-like text included', () => {
    const rows = [
      newRow({ instrumentCode: 'GLU', lisCode: 'GLUC', name: 'Glucose, fasting', units: 'mmol/L' }),
      newRow({ instrumentCode: '=CMD', name: 'say "hi"', exclude: true }),
    ];
    const csv = testCodesToCsv(rows);
    expect(csv.split('\r\n')[0]).toBe('Instrument code,LIS code,Name,Units,Exclude');
    expect(csv).toContain(`'=CMD`);
    const back = testCodesFromCsv(csv);
    expect(back.ok && back.rows.map(({ key: _key, ...row }) => row)).toEqual(
      rows.map(({ key: _key, ...row }) => row),
    );
  });

  it('read semicolon files from spreadsheets set to decimal commas, without a header', () => {
    const read = testCodesFromCsv('NA;NA+;Sodium;;\r\nK;;;;yes\r\n');
    expect(
      read.ok && read.rows.map((r) => [r.instrumentCode, r.lisCode, r.name, r.exclude]),
    ).toEqual([
      ['NA', 'NA+', 'Sodium', false],
      ['K', '', '', true],
    ]);
  });

  it('say what is wrong with a file they cannot read', () => {
    expect(testCodesFromCsv('Instrument code,LIS code\r\n')).toEqual({
      ok: false,
      problem: 'the file has no test codes',
    });
    expect(testCodesFromCsv('A,B,C,D,E,F\r\n')).toEqual({
      ok: false,
      problem:
        'row 1 has 6 columns; expected at most 5: Instrument code, LIS code, Name, Units, Exclude',
    });
  });
});

describe('the Results section of the instrument editor', () => {
  it('shows the mapping table and saves what was changed', async () => {
    await openExisting();
    expect(input('Analyzer code, row 1').value).toBe('Alb');
    expect(input('LIS code, row 1').value).toBe('UALB');
    expect(input('Not forwarded, row 2').checked).toBe(true);
    fireEvent.click(screen.getByRole('button', { name: 'Add a test code' }));
    fireEvent.change(input('Analyzer code, row 3'), { target: { value: 'Crt' } });
    fireEvent.change(input('LIS code, row 3'), { target: { value: 'UCREA' } });
    fireEvent.change(input('Units sent, row 3'), { target: { value: 'mg/dL' } });
    fireEvent.click(screen.getByRole('button', { name: 'Remove row 2' }));
    await save();
    expect(sentConfig()).toMatchObject({
      profile: 'dca-vantage',
      testCodes: {
        Alb: { code: 'UALB', name: 'Urine albumin', exclude: false },
        Crt: { code: 'UCREA', units: 'mg/dL', exclude: false },
      },
      qc: { sampleIds: ['CTRL*'], messageMarks: true, forwardTo: [] },
    });
    expect(sentConfig().testCodes).not.toHaveProperty('Ratio');
  });

  it('names a doubled code on its row and does not save', async () => {
    await openExisting();
    fireEvent.click(screen.getByRole('button', { name: 'Add a test code' }));
    fireEvent.change(input('Analyzer code, row 3'), { target: { value: 'Alb' } });
    await save();
    expect(gateway.fake.commands.updateInstrument).not.toHaveBeenCalled();
    const code = input('Analyzer code, row 3');
    expect(code.getAttribute('aria-invalid')).toBe('true');
    expect(document.getElementById(code.getAttribute('aria-describedby')!)!.textContent).toBe(
      '"Alb" is already in row 1',
    );
    fireEvent.change(code, { target: { value: 'Crt' } });
    await save();
    expect(gateway.fake.commands.updateInstrument).toHaveBeenCalledTimes(1);
  });

  it('imports a CSV file into the table and exports the table', async () => {
    await openExisting();
    const file = new File(['Instrument code,LIS code\r\nNA,NA+\r\nK,K+\r\n'], 'codes.csv', {
      type: 'text/csv',
    });
    fireEvent.change(screen.getByLabelText('CSV file of test codes'), {
      target: { files: [file] },
    });
    await screen.findByText('2 test codes imported from codes.csv; save to keep them.');
    expect([input('Analyzer code, row 1').value, input('Analyzer code, row 2').value]).toEqual([
      'NA',
      'K',
    ]);

    const blobs: Blob[] = [];
    const createObjectURL = vi.fn((blob: Blob) => {
      blobs.push(blob);
      return 'blob:codes';
    });
    Object.assign(URL, { createObjectURL, revokeObjectURL: vi.fn() });
    fireEvent.click(screen.getByRole('button', { name: 'Export CSV' }));
    const text = await new Promise<string>((resolve) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result));
      reader.readAsText(blobs[0]!);
    });
    expect(text).toBe('Instrument code,LIS code,Name,Units,Exclude\r\nNA,NA+,,,\r\nK,K+,,,\r\n');
  });

  it('offers the profiles of the instrument’s protocol and says what each reads differently', async () => {
    await openExisting();
    const picker = screen.getByLabelText('Profile') as HTMLSelectElement;
    expect(picker.value).toBe('dca-vantage');
    expect([...picker.options].map((o) => o.value)).toEqual([
      '',
      'genexpert',
      'hitachi-7600',
      'cobas-c311',
      'dca-vantage',
      'yumizen-h500',
    ]);
    const rules = screen.getByRole('table', {
      name: 'What the Siemens DCA Vantage profile reads differently',
    });
    expect(within(rules).getByRole('row', { name: /Result time/ }).textContent).toBe(
      'Result timeR-13.1, then R-12.1R-13.1',
    );
    fireEvent.change(picker, { target: { value: '' } });
    await save();
    expect(sentConfig()).not.toHaveProperty('profile');
  });

  it('previews a profile on the instrument’s last message', async () => {
    gateway.fake.commands.previewProfile.mockResolvedValue({
      ok: true,
      value: {
        message: {
          id: 42,
          receivedAt: Date.UTC(2025, 5, 3, 9, 10),
          protocol: 'astm',
          results: [
            {
              sampleId: '712',
              patientId: 'PAT-4410',
              testCode: 'Alb',
              value: '18.2',
              units: 'mg/L',
              flags: null,
              status: 'F',
              observedAt: '2025-06-03T11:10:12',
              sources: [{ field: 'observedAt', segment: 3, position: 'R-12' }],
            },
          ],
          notes: [],
        },
      },
    });
    await openExisting();
    fireEvent.change(screen.getByLabelText('Profile'), { target: { value: 'yumizen-h500' } });
    fireEvent.click(screen.getByRole('button', { name: 'Preview with the last message' }));
    await settle();
    expect(gateway.fake.commands.previewProfile).toHaveBeenCalledWith({
      instrumentId: 'cobas',
      profile: 'yumizen-h500',
    });
    expect(
      screen.getByText(/With the Horiba Yumizen H500 profile, the last message \(number 42/),
    ).toBeTruthy();
    const table = screen.getByRole('table', { name: 'Results of the last message' });
    expect(
      within(table)
        .getAllByRole('cell')
        .map((c) => c.textContent),
    ).toEqual(['Alb', '18.2', 'mg/L', '2025-06-03 11:10:12R-12', '712']);
  });

  it('cannot preview an instrument not saved yet', () => {
    useAppStore.getState().openEditor({ kind: 'new' });
    render(<InstrumentsPage />);
    const button = screen.getByRole('button', { name: 'Preview with the last message' });
    expect((button as HTMLButtonElement).disabled).toBe(true);
  });
});
