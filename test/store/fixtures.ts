/**
 * Plausible laboratory messages for store tests: HL7 ORU^R01 and ASTM E1394 sessions with
 * realistic IDs, test codes, values and units, reproducible from a seed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Result } from '../../src-shared/results';
import { openStore, type NewMessage, type Store, type StoreOptions } from '../../src-main/store';

export const T0 = Date.UTC(2026, 10, 26, 8, 0, 0);

const tests = [
  ['GLU', 'Glucose', 'mmol/L', 3.5, 9],
  ['NA', 'Sodium', 'mmol/L', 130, 150],
  ['K', 'Potassium', 'mmol/L', 3, 6],
  ['CL', 'Chloride', 'mmol/L', 95, 110],
  ['CREA', 'Creatinine', 'umol/L', 50, 130],
  ['UREA', 'Urea', 'mmol/L', 2, 9],
  ['ALT', 'Alanine aminotransferase', 'U/L', 5, 60],
  ['AST', 'Aspartate aminotransferase', 'U/L', 5, 50],
  ['CHOL', 'Cholesterol', 'mmol/L', 3, 7],
  ['TRIG', 'Triglycerides', 'mmol/L', 0.5, 3],
  ['CRP', 'C-reactive protein', 'mg/L', 0, 50],
  ['HBA1C', 'Haemoglobin A1c', '%', 4, 9],
] as const;

const surnames = ['SMITH', 'NGUYEN', 'MULLER', 'GARCIA', 'KOWALSKI', 'OKAFOR', 'TANAKA', 'DUBOIS'];
const givenNames = ['ANNA', 'JOHN', 'MARIA', 'PIOTR', 'AMARA', 'KENJI', 'LUCIE', 'OMAR'];

/** Deterministic pseudo-random numbers (mulberry32). */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GeneratedOptions {
  instrumentId?: string;
  receivedAt?: number;
  results?: number;
  sampleId?: string;
  patientId?: string;
  dedupeKey?: string;
  seed?: number;
}

export function sampleIdFor(n: number): string {
  return `S${String(26_000_000 + n)}`;
}

export function patientIdFor(n: number): string {
  return `P${String(100_000 + n)}`;
}

function pick<T>(items: readonly T[], rnd: () => number): T {
  return items[Math.floor(rnd() * items.length)] as T;
}

function resultsFor(
  count: number,
  sampleId: string,
  patientId: string,
  observedAt: string,
  rnd: () => number,
): Result[] {
  const results: Result[] = [];
  for (let i = 0; i < count; i++) {
    const [code, , units, low, high] = tests[i % tests.length] as (typeof tests)[number];
    const value = low + rnd() * (high - low) * 1.2;
    results.push({
      sampleId,
      patientId,
      testCode: code,
      value: value.toFixed(value < 10 ? 2 : 1),
      units,
      flags: value > high ? 'H' : 'N',
      status: 'F',
      observedAt,
    });
  }
  return results;
}

function hl7Time(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** An HL7 ORU^R01 with one OBX per result, MLLP-framed on the wire. */
export function hl7Message(n: number, options: GeneratedOptions = {}): NewMessage {
  const rnd = random(options.seed ?? n + 1);
  const receivedAt = options.receivedAt ?? T0 + n * 1000;
  const sampleId = options.sampleId ?? sampleIdFor(n);
  const patientId = options.patientId ?? patientIdFor(Math.floor(rnd() * 50_000));
  const observedAt = new Date(receivedAt - 60_000).toISOString().slice(0, 19);
  const results = resultsFor(options.results ?? 10, sampleId, patientId, observedAt, rnd);
  const controlId = `MSG${String(n).padStart(8, '0')}`;
  const segments = [
    `MSH|^~\\&|COBAS|CHEMLAB|LIS|HOSPITAL|${hl7Time(receivedAt)}||ORU^R01^ORU_R01|${controlId}|P|2.5.1`,
    `PID|1||${patientId}^^^HOSP^MR||${pick(surnames, rnd)}^${pick(givenNames, rnd)}||19${10 + Math.floor(rnd() * 89)}0101|${rnd() < 0.5 ? 'F' : 'M'}`,
    `OBR|1|${sampleId}|${sampleId}|CHEM^Chemistry panel^L|||${hl7Time(receivedAt - 600_000)}`,
    ...results.map((r, i) => {
      const name = tests[i % tests.length]?.[1] ?? '';
      return `OBX|${i + 1}|NM|${r.testCode}^${name}^LN||${r.value}|${r.units}|||${r.flags}|||F|||${hl7Time(receivedAt - 60_000)}`;
    }),
  ];
  const text = segments.join('\r');
  return {
    instrumentId: options.instrumentId ?? 'hema1',
    protocol: 'hl7',
    direction: 'in',
    receivedAt,
    controlId,
    text,
    raw: Buffer.concat([
      Buffer.of(0x0b),
      Buffer.from(`${text}\r`, 'latin1'),
      Buffer.of(0x1c, 0x0d),
    ]),
    ack: 'AA',
    status: 'stored',
    errors: [],
    results,
    dedupeKey: options.dedupeKey ?? null,
  };
}

/** An ASTM E1394 session (H, P, O, R..., L) in E1381 frames on the wire. */
export function astmMessage(n: number, options: GeneratedOptions = {}): NewMessage {
  const rnd = random(options.seed ?? n + 7);
  const receivedAt = options.receivedAt ?? T0 + n * 1000;
  const sampleId = options.sampleId ?? sampleIdFor(n);
  const patientId = options.patientId ?? patientIdFor(Math.floor(rnd() * 50_000));
  const observedAt = new Date(receivedAt - 60_000).toISOString().slice(0, 19);
  const results = resultsFor(options.results ?? 10, sampleId, patientId, observedAt, rnd);
  const records = [
    `H|\\^&|||cobas c311^1|||||host|RSUPL^BATCH|P|1|${hl7Time(receivedAt)}`,
    `P|1||${patientId}||${pick(surnames, rnd)}^${pick(givenNames, rnd)}`,
    `O|1|${sampleId}^CL-PL-24-${String(n % 10_000).padStart(4, '0')}^1||^^^CHEM|R`,
    ...results.map(
      (r, i) =>
        `R|${i + 1}|^^^${r.testCode}|${r.value}|${r.units}||${r.flags}||F||||${hl7Time(receivedAt - 60_000)}`,
    ),
    'L|1|N',
  ];
  const text = records.join('\r');
  const frames = records.map((record, i) => `\x02${(i + 1) % 8}${record}\r\x03FF\r\n`);
  return {
    instrumentId: options.instrumentId ?? 'chem1',
    protocol: 'astm',
    direction: 'in',
    receivedAt,
    text,
    raw: Buffer.from(`\x05${frames.join('')}\x04`, 'latin1'),
    ack: 'ACK',
    status: 'stored',
    errors: [],
    results,
    dedupeKey: options.dedupeKey ?? null,
  };
}

/** A temporary directory removed by the returned function. */
export function tempDir(): { dir: string; file: (name?: string) => string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-store-'));
  return {
    dir,
    file: (name = 'gateway.sqlite') => path.join(dir, name),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** Opens stores on files in one temporary directory; `cleanup` closes them and removes it. */
export function storeSandbox(): {
  open: (options?: Partial<StoreOptions>) => Store;
  file: (name?: string) => string;
  cleanup: () => void;
} {
  const temp = tempDir();
  const opened: Store[] = [];
  return {
    open(options = {}) {
      const store = openStore({ file: temp.file(), ...options });
      opened.push(store);
      return store;
    },
    file: temp.file,
    cleanup() {
      for (const store of opened) store.close();
      temp.remove();
    },
  };
}
