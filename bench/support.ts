import os from 'node:os';

export interface BenchOptions {
  quick: boolean;
}

export interface Row {
  name: string;
  [column: string]: string | number;
}

export interface SuiteReport {
  title: string;
  /** One paragraph: what was measured and how. */
  method: string;
  rows: Row[];
  /** Lines such as "ours / fastest other = 2.1× (goal ≥ 1.5×)". */
  ratios: string[];
}

export type Suite = (options: BenchOptions) => Promise<SuiteReport>;

export function machine(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? 'unknown CPU';
  const gib = (os.totalmem() / 2 ** 30).toFixed(0);
  return `${model}, ${cpus.length} cores, ${gib} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}`;
}

/** Runs `fn` repeatedly for about `ms` after a warm-up; returns operations per second. */
export function measure(fn: () => void, ms: number, warmupMs = Math.min(200, ms / 5)): number {
  const until = (limit: number): number => {
    const start = performance.now();
    let n = 0;
    while (performance.now() - start < limit) {
      fn();
      n++;
    }
    return n / ((performance.now() - start) / 1000);
  };
  until(warmupMs);
  return until(ms);
}

export function fmt(value: number, digits = 0): string {
  return value.toLocaleString('en-US', {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
}

export function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}×`;
}

export function markdownTable(rows: Row[]): string {
  if (rows.length === 0) return '(no rows)';
  const columns = Object.keys(rows[0]!);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [
    line(columns),
    line(columns.map(() => '---')),
    ...rows.map((row) => line(columns.map((c) => String(row[c] ?? '')))),
  ].join('\n');
}

/** Percentile of an unsorted sample (p in 0..100). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}
