import { describe, expect, it } from 'vitest';
import type { StoredResult } from '../../src-shared/results';
import { CSV_BOM, CSV_COLUMNS, csvCell, planExport } from '../../src-main/service/exports';
import type {
  MessageDetail,
  MessageFilter,
  MessageSummary,
  Page,
} from '../../src-main/store/types';

function result(overrides: Partial<StoredResult>): StoredResult {
  return {
    sampleId: 'S1',
    patientId: 'P1',
    testCode: 'GLU',
    value: '5.4',
    units: 'mmol/L',
    flags: 'N',
    status: 'F',
    observedAt: '2026-11-26T10:15:00',
    qc: false,
    ...overrides,
  };
}

function message(id: number, results: StoredResult[]): MessageDetail {
  return {
    id,
    instrumentId: 'chem1',
    protocol: 'astm',
    direction: 'in',
    receivedAt: Date.UTC(2026, 10, 26, 10, 16, id),
    controlId: null,
    sampleIds: ['S1'],
    patientIds: ['P1'],
    testCodes: results.map((r) => r.testCode ?? ''),
    status: 'stored',
    ack: 'ACK',
    resultCount: results.length,
    errorCount: 0,
    qc: false,
    preview: 'H|\\^&',
    size: 10,
    text: `H|\\^&\rL|1|N\r`,
    raw: Buffer.from(`raw-${id};`),
    results,
    errors: [],
    dedupeKey: null,
    profile: null,
  };
}

/** A reader over fixed messages, newest first, that counts the pages asked for. */
function reader(messages: MessageDetail[]) {
  const pagesRead: number[] = [];
  return {
    pagesRead,
    queryMessages(filter: MessageFilter = {}): Page<MessageSummary> {
      const start = filter.cursor ? Number(filter.cursor) : 0;
      const limit = filter.limit ?? 50;
      pagesRead.push(start);
      const items = messages.slice(start, start + limit);
      const next = start + limit < messages.length ? String(start + limit) : null;
      return { items, nextCursor: next };
    },
    getMessage: (id: number) => messages.find((m) => m.id === id) ?? null,
  };
}

describe('exports', () => {
  it('escapes cells a spreadsheet would run as formulas, and quotes separators', () => {
    expect(csvCell('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvCell('-2+3')).toBe("'-2+3");
    expect(csvCell('+A1')).toBe("'+A1");
    expect(csvCell('-5.2')).toBe('-5.2');
    expect(csvCell('+1')).toBe('+1');
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\tcmd')).toBe("'\tcmd");
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('5.4')).toBe('5.4');
    expect(csvCell(null)).toBe('');
    expect(csvCell(42)).toBe('42');
  });

  it('writes results as CSV rows with formula-looking values made harmless', () => {
    const store = reader([message(1, [result({ value: '=1+1', flags: '+-' }), result({})])]);
    const plan = planExport(store, {}, 'csv', 100, Date.UTC(2026, 10, 26), {
      timeZone: 'America/New_York',
      instrumentName: (id) => (id === 'chem1' ? 'Chemistry, bench 2' : null),
    });
    const text = [...plan.chunks()].join('');
    // A byte-order mark, so a spreadsheet reads UTF-8 (µmol/L) as UTF-8.
    expect(text.startsWith(CSV_BOM)).toBe(true);
    const lines = text.slice(1).trimEnd().split('\r\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    // Times in one stated zone with its offset; the analyzer's clock stated in the same zone.
    expect(lines[1]).toBe(
      '1,chem1,"Chemistry, bench 2",2026-11-26T05:16:01-05:00,S1,P1,GLU,\'=1+1,mmol/L,,\'+-,F,2026-11-26T10:15:00-05:00,',
    );
    expect(lines).toHaveLength(3);
    expect(plan.count).toBe(1);
    expect(plan.fileName).toBe('results-2026-11-26-00-00-00.csv');
  });

  it('reads the store page by page while the chunks are consumed, and stops at max', () => {
    const all = Array.from({ length: 1_200 }, (_, i) => message(i + 1, [result({})]));
    const store = reader(all);
    const plan = planExport(store, {}, 'raw', 1_100, 0);
    const chunks = plan.chunks();
    chunks.next();
    expect(store.pagesRead).toEqual([0]);
    const rest = [...chunks];
    expect(rest).toHaveLength(1_099);
    expect(store.pagesRead).toEqual([0, 500, 1000]);
    expect(plan.count).toBe(1_100);
  });

  it('writes JSON that parses back to every message', () => {
    const store = reader([message(1, [result({})]), message(2, [])]);
    const json = JSON.parse([...planExport(store, {}, 'json', 10, 0).chunks()].join('')) as {
      id: number;
    }[];
    expect(json.map((m) => m.id)).toEqual([1, 2]);
    expect(JSON.parse([...planExport(reader([]), {}, 'json', 10, 0).chunks()].join(''))).toEqual(
      [],
    );
  });
});
