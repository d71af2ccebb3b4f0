/**
 * The instrument editor's result settings (profile, test-code table, QC rules) as form values,
 * and the way between them and the instrument config, with problems in plain words per row.
 */
import {
  describeIssues,
  qcRulesSchema,
  testCodesSchema,
  type InstrumentConfig,
  type InstrumentConfigInput,
} from '../../src-shared/config';
import { csvCell, parseCsv } from '../../src-shared/csv';
import { profileNamed } from '../../src-shared/profiles';
import type { Protocol } from '../../src-shared/results';

export interface TestCodeRow {
  /** Stable across edits, for React and for placing problems. */
  key: number;
  instrumentCode: string;
  lisCode: string;
  name: string;
  units: string;
  exclude: boolean;
}

export interface ResultSettingsValues {
  /** '' for the generic reading. */
  profile: string;
  testCodes: TestCodeRow[];
  /** One pattern per line. */
  qcSampleIds: string;
  qcMessageMarks: boolean;
  /** Destination IDs, separated by commas, spaces or lines. */
  qcForwardTo: string;
}

export interface ResultSettingsErrors {
  profile?: string;
  /** By row key. */
  rows: Record<number, { instrumentCode?: string; lisCode?: string; other?: string }>;
  qcSampleIds?: string;
  qcForwardTo?: string;
}

export type ResultSettings = Pick<InstrumentConfigInput, 'profile' | 'testCodes' | 'qc'>;

let nextKey = 1;

export function newRow(change: Partial<Omit<TestCodeRow, 'key'>> = {}): TestCodeRow {
  return {
    key: nextKey++,
    instrumentCode: '',
    lisCode: '',
    name: '',
    units: '',
    exclude: false,
    ...change,
  };
}

export function toResultSettings(
  config: Pick<InstrumentConfig, 'profile' | 'testCodes' | 'qc'>,
): ResultSettingsValues {
  return {
    profile: config.profile ?? '',
    testCodes: Object.entries(config.testCodes).map(([instrumentCode, entry]) =>
      newRow({
        instrumentCode,
        lisCode: entry.code ?? '',
        name: entry.name ?? '',
        units: entry.units ?? '',
        exclude: entry.exclude,
      }),
    ),
    qcSampleIds: config.qc.sampleIds.join('\n'),
    qcMessageMarks: config.qc.messageMarks,
    qcForwardTo: config.qc.forwardTo.join(', '),
  };
}

export function newResultSettings(): ResultSettingsValues {
  return toResultSettings({ testCodes: {}, qc: qcRulesSchema.parse({}) });
}

const isBlank = (row: TestCodeRow) =>
  row.instrumentCode.trim() === '' &&
  row.lisCode.trim() === '' &&
  row.name.trim() === '' &&
  row.units.trim() === '' &&
  !row.exclude;

/**
 * The config's `profile`, `testCodes` and `qc`, or the problems: each named on its row
 * ("GLU is already in row 2"), in the words a technician would use.
 */
export function readResultSettings(
  values: ResultSettingsValues,
  protocol: Protocol,
): { ok: true; settings: ResultSettings } | { ok: false; errors: ResultSettingsErrors } {
  const errors: ResultSettingsErrors = { rows: {} };
  const rowError = (key: number, problem: NonNullable<ResultSettingsErrors['rows'][number]>) => {
    errors.rows[key] = { ...errors.rows[key], ...problem };
  };

  const profile = values.profile === '' ? null : profileNamed(values.profile);
  if (values.profile !== '' && profile === null) {
    errors.profile = `there is no profile named "${values.profile}"`;
  } else if (profile && profile.protocol !== protocol) {
    errors.profile = `this profile reads ${profile.protocol.toUpperCase()} messages; the instrument speaks ${protocol.toUpperCase()}`;
  }

  const rows = values.testCodes.filter((row) => !isBlank(row));
  const byCode = new Map<string, number>();
  const byLisCode = new Map<string, number>();
  const testCodes: Record<string, unknown> = {};
  const keyOf = new Map<string, number>();
  rows.forEach((row) => {
    const number = values.testCodes.indexOf(row) + 1;
    const code = row.instrumentCode.trim();
    const lisCode = row.lisCode.trim();
    if (code === '') {
      rowError(row.key, { instrumentCode: 'enter the code the analyzer sends' });
      return;
    }
    const first = byCode.get(code);
    if (first !== undefined) {
      rowError(row.key, { instrumentCode: `"${code}" is already in row ${first}` });
      return;
    }
    byCode.set(code, number);
    if (!row.exclude) {
      const sent = lisCode || code;
      const other = byLisCode.get(sent);
      if (other !== undefined) {
        rowError(row.key, {
          lisCode: `row ${other} already sends the LIS code "${sent}"; each LIS code may come from one analyzer code`,
        });
      } else byLisCode.set(sent, number);
    }
    keyOf.set(code, row.key);
    testCodes[code] = {
      ...(lisCode ? { code: lisCode } : {}),
      ...(row.name.trim() ? { name: row.name.trim() } : {}),
      ...(row.units.trim() ? { units: row.units.trim() } : {}),
      exclude: row.exclude,
    };
  });
  const checkedCodes = testCodesSchema.safeParse(testCodes);
  if (!checkedCodes.success) {
    for (const problem of describeIssues(checkedCodes.error)) {
      const [code, part] = problem.field.split('.');
      const key = keyOf.get(code ?? '');
      if (key === undefined || errors.rows[key]) continue;
      rowError(key, part === 'code' ? { lisCode: problem.message } : { other: problem.message });
    }
  }

  const qc = {
    sampleIds: lines(values.qcSampleIds),
    messageMarks: values.qcMessageMarks,
    forwardTo: values.qcForwardTo.split(/[\s,]+/u).filter((id) => id !== ''),
  };
  const checkedQc = qcRulesSchema.safeParse(qc);
  if (!checkedQc.success) {
    for (const problem of describeIssues(checkedQc.error)) {
      if (problem.field.startsWith('sampleIds')) errors.qcSampleIds ??= problem.message;
      if (problem.field.startsWith('forwardTo')) {
        const index = Number(/\[(\d+)\]/u.exec(problem.field)?.[1] ?? 0);
        errors.qcForwardTo ??= `"${qc.forwardTo[index]}" ${problem.message}`;
      }
    }
  }

  const failed =
    errors.profile !== undefined ||
    Object.keys(errors.rows).length > 0 ||
    errors.qcSampleIds !== undefined ||
    errors.qcForwardTo !== undefined;
  if (failed) return { ok: false, errors };
  return {
    ok: true,
    settings: {
      ...(profile ? { profile: profile.name } : {}),
      testCodes: testCodes as ResultSettings['testCodes'],
      qc,
    },
  };
}

function lines(text: string): string[] {
  return text
    .split(/\r?\n/u)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

// ---------------------------------------------------------------------------------------------
// CSV

export const TEST_CODE_CSV_HEADER = ['Instrument code', 'LIS code', 'Name', 'Units', 'Exclude'];

/** The table as CSV a spreadsheet opens, one row per code. */
export function testCodesToCsv(rows: readonly TestCodeRow[]): string {
  const lines = [TEST_CODE_CSV_HEADER.map(csvCell).join(',')];
  for (const row of rows) {
    if (isBlank(row)) continue;
    const cells = [row.instrumentCode, row.lisCode, row.name, row.units, row.exclude ? 'yes' : ''];
    lines.push(cells.map((cell) => csvCell(cell.trim())).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

const YES = new Set(['yes', 'y', 'true', '1', 'x']);

/**
 * Rows from CSV in the export's column order (a header row is recognised and skipped); a
 * problem with the file as a whole is given in plain words.
 */
export function testCodesFromCsv(
  text: string,
): { ok: true; rows: TestCodeRow[] } | { ok: false; problem: string } {
  const table = parseCsv(text);
  const header = table.length > 0 && /instrument/iu.test(table[0]![0] ?? '') ? 1 : 0;
  const rows = table.slice(header);
  if (rows.length === 0) return { ok: false, problem: 'the file has no test codes' };
  const wide = rows.findIndex((cells) => cells.length > TEST_CODE_CSV_HEADER.length);
  if (wide >= 0) {
    return {
      ok: false,
      problem: `row ${wide + header + 1} has ${rows[wide]!.length} columns; expected at most ${TEST_CODE_CSV_HEADER.length}: ${TEST_CODE_CSV_HEADER.join(', ')}`,
    };
  }
  return {
    ok: true,
    rows: rows.map(([instrumentCode = '', lisCode = '', name = '', units = '', exclude = '']) =>
      newRow({ instrumentCode, lisCode, name, units, exclude: YES.has(exclude.toLowerCase()) }),
    ),
  };
}
