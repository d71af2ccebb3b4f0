// @vitest-environment jsdom
import { cleanup, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { MessageDetail, ResultView } from '../../src-shared/contract';
import { ResultsTable } from '../../src-renderer/history/detail/ResultsTable';

afterEach(cleanup);

function result(change: Partial<ResultView>): ResultView {
  return {
    sampleId: 'S1',
    patientId: 'P1',
    testCode: 'GLU',
    value: '5.4',
    units: 'mmol/L',
    flags: 'N',
    status: 'F',
    observedAt: '2025-03-14T10:02:00',
    qc: false,
    referenceRange: '3.9–6.1',
    sources: [],
    lis: { testCode: 'GLU', name: null, units: 'mmol/L', mapped: false, excluded: false },
    ...change,
  };
}

function detail(results: ResultView[]): MessageDetail {
  return {
    id: 1,
    instrumentId: 'c1',
    protocol: 'astm',
    direction: 'in',
    receivedAt: 0,
    controlId: null,
    sampleIds: [],
    patientIds: [],
    testCodes: [],
    status: 'stored',
    ack: 'ACK',
    resultCount: results.length,
    errorCount: 0,
    qc: false,
    preview: '',
    size: 0,
    text: '',
    raw: '',
    profile: null,
    results,
    errors: [],
    parsed: [],
    trace: [],
  };
}

describe('the results of a message', () => {
  it('marks every abnormal flag, also beside a value that is not a number, and shows the range', () => {
    render(
      <ResultsTable
        detail={detail([
          result({}),
          result({ testCode: 'HIV', value: 'abc', flags: 'HH', referenceRange: null }),
        ])}
      />,
    );
    const rows = screen.getAllByRole('row');
    expect(within(rows[0]!).getByText('Range')).toBeTruthy();
    expect(rows[1]!.className).not.toContain('history-result-abnormal');
    expect(rows[1]!.textContent).toContain('3.9–6.1');
    expect(rows[2]!.className).toContain('history-result-abnormal');
    expect(rows[2]!.textContent).toContain('HH (abnormal)');
  });
});
