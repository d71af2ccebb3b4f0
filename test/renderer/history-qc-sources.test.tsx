// @vitest-environment jsdom
/** The history's QC mark and filter, and where each value came from in the detail tabs. */
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { create } from 'zustand';
import type {
  CommandRequest,
  CommandResult,
  GatewayApi,
  MessageDetail,
  ResultView,
} from '../../src-shared/contract';
import type { MessageSummary } from '../../src-shared/status';
import { setApi } from '../../src-renderer/api';
import { HistoryView } from '../../src-renderer/history/HistoryView';
import { createHistorySlice, type HistorySlice } from '../../src-renderer/store/history-slice';

function summary(id: number, qc: boolean): MessageSummary {
  return {
    id,
    instrumentId: 'gx1',
    protocol: 'astm',
    direction: 'in',
    receivedAt: Date.now() - 1_000_000 + id,
    controlId: null,
    sampleIds: [qc ? 'QC-LOW' : `S${id}`],
    patientIds: [],
    testCodes: [],
    status: 'stored',
    ack: 'ACK',
    resultCount: 2,
    errorCount: 0,
    qc,
    preview: '',
    size: 64,
  };
}

const TEXT = [
  'H|@^\\|||GeneXpert',
  'O|1|QC-LOW',
  'R|1|^MTB-RIF^^Xpert^^^SPC^Ct|^24.1|||',
  'R|2|^MTB-RIF^^Xpert^^^SPC^EndPt|^162.0|||',
  'L|1|N',
].join('\r');

function result(
  testCode: string,
  value: string,
  segment: number,
  qc: boolean,
  lis: ResultView['lis'],
): ResultView {
  return {
    sampleId: 'QC-LOW',
    patientId: null,
    testCode,
    value,
    units: 'cycles',
    flags: null,
    status: null,
    observedAt: null,
    qc,
    sources: [
      { field: 'sampleId', segment: 1, position: 'O-3' },
      { field: 'testCode', segment, position: 'R-3.4' },
      { field: 'testCode', segment, position: 'R-3.7' },
      { field: 'testCode', segment, position: 'R-3.8' },
      { field: 'value', segment, position: 'R-4.2' },
    ],
    lis,
  };
}

function detail(id: number): MessageDetail {
  const components = (field: string) => field.split('^');
  return {
    ...summary(id, true),
    text: TEXT,
    raw: btoa(TEXT),
    profile: 'genexpert',
    results: [
      result('Xpert/SPC/Ct', '24.1', 2, true, {
        testCode: 'SPC-CT',
        name: 'Sample processing control Ct',
        units: 'Ct',
        mapped: true,
        excluded: false,
      }),
      result('Xpert/SPC/EndPt', '162.0', 3, false, {
        testCode: 'Xpert/SPC/EndPt',
        name: null,
        units: 'cycles',
        mapped: true,
        excluded: true,
      }),
    ],
    errors: [],
    parsed: [
      { name: 'H', text: 'H|@^\\|||GeneXpert', fields: [] },
      {
        name: 'O',
        text: 'O|1|QC-LOW',
        fields: [
          { position: 'O-2', value: '1' },
          { position: 'O-3', value: 'QC-LOW' },
        ],
      },
      ...[2, 3].map((n) => {
        const text = TEXT.split('\r')[n]!;
        const [, seq, test, value] = text.split('|');
        return {
          name: 'R',
          text,
          fields: [
            { position: 'R-2', value: seq! },
            { position: 'R-3', value: test!, components: components(test!) },
            { position: 'R-4', value: value!, components: components(value!) },
          ],
        };
      }),
    ],
    trace: [],
  };
}

type Query = CommandRequest<'queryMessages'>;

function fakeApi() {
  const api = {
    queryMessages: vi.fn(async (query: Query): Promise<CommandResult<'queryMessages'>> => ({
      ok: true,
      value: {
        items: [summary(2, true), summary(1, false)].filter(
          (m) => query.qc === undefined || m.qc === query.qc,
        ),
        nextCursor: null,
      },
    })),
    getMessage: vi.fn(
      async ({ id }: CommandRequest<'getMessage'>): Promise<CommandResult<'getMessage'>> => ({
        ok: true,
        value: detail(id),
      }),
    ),
    listInstruments: vi.fn(async () => ({ ok: true as const, value: [] })),
  };
  setApi(api as unknown as GatewayApi);
  return api;
}

beforeEach(() => setApi(null));
afterEach(() => {
  cleanup();
  setApi(null);
});

const listbox = () => screen.getByRole('listbox', { name: 'Messages' });

async function openQcMessage() {
  const row = await within(await screen.findByRole('listbox')).findByRole('option', {
    name: /sample QC-LOW/,
  });
  fireEvent.click(row);
  await screen.findByRole('heading', { name: /Message 2/ });
}

describe('QC in the history', () => {
  it('marks QC messages in the list and filters on them', async () => {
    const api = fakeApi();
    render(<HistoryView store={create<HistorySlice>()(createHistorySlice)} />);
    const qcRow = await within(await screen.findByRole('listbox')).findByRole('option', {
      name: /sample QC-LOW/,
    });
    expect(qcRow.getAttribute('aria-label')).toContain('quality control');
    expect(within(qcRow).getByText('QC')).toBeTruthy();
    const patientRow = within(listbox()).getByRole('option', { name: /sample S1/ });
    expect(within(patientRow).queryByText('QC')).toBeNull();

    fireEvent.change(screen.getByRole('combobox', { name: 'Results' }), {
      target: { value: 'qc' },
    });
    await waitFor(() =>
      expect(api.queryMessages).toHaveBeenLastCalledWith(expect.objectContaining({ qc: true })),
    );
    await waitFor(() => expect(within(listbox()).getAllByRole('option')).toHaveLength(1));
    fireEvent.change(screen.getByRole('combobox', { name: 'Results' }), {
      target: { value: 'patient' },
    });
    await waitFor(() =>
      expect(api.queryMessages).toHaveBeenLastCalledWith(expect.objectContaining({ qc: false })),
    );
    await within(listbox()).findByRole('option', { name: /sample S1/ });
  });
});

describe('where each value came from', () => {
  it('shows the analyzer’s and the LIS’s code, the QC mark and each value’s field', async () => {
    fakeApi();
    render(<HistoryView store={create<HistorySlice>()(createHistorySlice)} />);
    await openQcMessage();
    expect(screen.getByText('The Cepheid GeneXpert profile (genexpert)')).toBeTruthy();
    expect(screen.getByText(/2 results, 1 quality-control result/)).toBeTruthy();

    const table = screen.getByRole('table', { name: /Results of message 2/ });
    const [first, second] = within(table)
      .getAllByRole('row')
      .slice(1)
      .map((row) =>
        within(row)
          .getAllByRole('cell')
          .map((cell) => cell.textContent),
      );
    expect(first!.slice(0, 4)).toEqual([
      'Xpert/SPC/CtQCR-3.4 + R-3.7 + R-3.8',
      'SPC-CT Sample processing control Ct',
      '24.1R-4.2',
      'cycles → Ct',
    ]);
    expect(second![0]).toBe('Xpert/SPC/EndPtR-3.4 + R-3.7 + R-3.8');
    expect(second![1]).toBe('not forwarded');

    fireEvent.click(
      screen.getByRole('checkbox', { name: 'Show the field each value was read from' }),
    );
    expect(within(table).queryByText('R-4.2')).toBeNull();
  });

  it('marks in the Parsed tab the fields and components that gave values', async () => {
    fakeApi();
    render(<HistoryView store={create<HistorySlice>()(createHistorySlice)} />);
    await openQcMessage();
    fireEvent.click(screen.getByRole('tab', { name: 'Parsed' }));
    const panel = screen.getByRole('tabpanel');
    const reads = within(panel)
      .getAllByText(/^→/)
      .map((node) => `${node.parentElement!.firstElementChild!.textContent} ${node.textContent}`);
    expect(reads).toEqual([
      'O-3 → Sample ID of results 1–2',
      'R-3.4 → Test code of result 1',
      'R-3.7 → Test code of result 1',
      'R-3.8 → Test code of result 1',
      'R-4.2 → Value of result 1',
      'R-3.4 → Test code of result 2',
      'R-3.7 → Test code of result 2',
      'R-3.8 → Test code of result 2',
      'R-4.2 → Value of result 2',
    ]);
  });
});
