/**
 * Orders from a CSV file, for `orders import`: a header line naming the columns (any order,
 * case ignored) `sample`, `tests`, and optionally `patient`, `name`, `priority`, `instrument`.
 * Tests are separated by `;`, `|` or spaces inside their cell. A line that cannot be read is
 * reported with its number and the rest are still read.
 */
import type { OrderChange } from '../store/orders';

export interface CsvOrders {
  changes: OrderChange[];
  problems: { line: number; message: string }[];
}

const COLUMNS = {
  sample: ['sample', 'sampleid', 'sample_id'],
  tests: ['tests', 'test', 'testcodes'],
  patient: ['patient', 'patientid', 'patient_id'],
  name: ['name', 'patientname', 'patient_name'],
  priority: ['priority'],
  instrument: ['instrument', 'instrumentid', 'instrument_id'],
} as const;

export function readOrdersCsv(text: string, source = 'import'): CsvOrders {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  const header = splitCsvLine(lines[0] ?? '').map((h) => h.trim().toLowerCase());
  const at = (names: readonly string[]) => header.findIndex((h) => names.includes(h));
  const col = Object.fromEntries(
    Object.entries(COLUMNS).map(([key, names]) => [key, at(names)]),
  ) as Record<keyof typeof COLUMNS, number>;
  const out: CsvOrders = { changes: [], problems: [] };
  if (col.sample < 0 || col.tests < 0) {
    out.problems.push({
      line: 1,
      message: 'the first line must name the columns, at least "sample" and "tests"',
    });
    return out;
  }
  lines.slice(1).forEach((line, i) => {
    if (line.trim() === '') return;
    const cells = splitCsvLine(line);
    const cell = (index: number) => (index < 0 ? '' : (cells[index] ?? '').trim());
    const sampleId = cell(col.sample);
    const tests = cell(col.tests)
      .split(/[;|\s]+/)
      .filter(Boolean);
    if (!sampleId) {
      out.problems.push({ line: i + 2, message: 'no sample ID' });
      return;
    }
    if (tests.length === 0) {
      out.problems.push({ line: i + 2, message: `sample ${sampleId} has no test` });
      return;
    }
    out.changes.push({
      action: 'new',
      sampleId,
      tests,
      patientId: cell(col.patient) || null,
      patientName: cell(col.name) || null,
      priority: cell(col.priority) || null,
      instrumentId: cell(col.instrument) || null,
      source,
    });
  });
  return out;
}

/** One CSV line into cells; quotes may hold commas, and `""` inside them is one quote. */
export function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  cells.push(cell);
  return cells;
}
