/**
 * Plausible analyzer output for the simulator and the demo: sample and patient IDs, a chemistry
 * and hematology panel with units, reference ranges and flags, values mostly in range.
 */
import { encodeAstmMessage } from '../protocols/astm/message';
import { escapeHl7 } from '../protocols/hl7/escape';
import { DEFAULT_ENCODING } from '../protocols/hl7/encoding';

interface Analyte {
  code: string;
  name: string;
  units: string;
  low: number;
  high: number;
  decimals: number;
}

const PANEL: readonly Analyte[] = [
  { code: 'GLU', name: 'Glucose', units: 'mmol/L', low: 3.9, high: 6.1, decimals: 1 },
  { code: 'NA', name: 'Sodium', units: 'mmol/L', low: 135, high: 145, decimals: 0 },
  { code: 'K', name: 'Potassium', units: 'mmol/L', low: 3.5, high: 5.1, decimals: 1 },
  { code: 'CL', name: 'Chloride', units: 'mmol/L', low: 98, high: 107, decimals: 0 },
  { code: 'CREA', name: 'Creatinine', units: 'µmol/L', low: 62, high: 106, decimals: 0 },
  { code: 'UREA', name: 'Urea', units: 'mmol/L', low: 2.5, high: 7.1, decimals: 1 },
  { code: 'ALT', name: 'Alanine aminotransferase', units: 'U/L', low: 7, high: 56, decimals: 0 },
  { code: 'AST', name: 'Aspartate aminotransferase', units: 'U/L', low: 10, high: 40, decimals: 0 },
  { code: 'CRP', name: 'C-reactive protein', units: 'mg/L', low: 0, high: 5, decimals: 1 },
  { code: 'WBC', name: 'White blood cells', units: '10^9/L', low: 4, high: 11, decimals: 2 },
  { code: 'RBC', name: 'Red blood cells', units: '10^12/L', low: 4.2, high: 5.9, decimals: 2 },
  { code: 'HGB', name: 'Hemoglobin', units: 'g/L', low: 120, high: 175, decimals: 0 },
  { code: 'HCT', name: 'Hematocrit', units: '%', low: 36, high: 52, decimals: 1 },
  { code: 'PLT', name: 'Platelets', units: '10^9/L', low: 150, high: 400, decimals: 0 },
  { code: 'TSH', name: 'Thyrotropin', units: 'mIU/L', low: 0.4, high: 4, decimals: 2 },
  { code: 'HBA1C', name: 'Hemoglobin A1c', units: '%', low: 4, high: 5.6, decimals: 1 },
];

const SURNAMES = ['DOE', 'SMITH', 'GARCIA', 'MÜLLER', 'NGUYEN', 'OKAFOR', 'ROSSI', 'SILVA'];
const GIVEN = ['JANE', 'JOHN', 'AMIRA', 'LUCAS', 'MEI', 'OLUWA', 'SOFIA', 'TOMÁS'];

export interface SimulatedResult {
  code: string;
  name: string;
  value: string;
  units: string;
  range: string;
  flag: 'L' | 'H' | 'N';
}

export interface SimulatedSample {
  sampleId: string;
  patientId: string;
  surname: string;
  given: string;
  birthDate: string;
  sex: 'F' | 'M';
  /** `YYYYMMDDHHMMSS`, local time. */
  observedAt: string;
  results: SimulatedResult[];
}

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)]!;
}

export function astmTimestamp(at: number): string {
  const d = new Date(at);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;
}

/** One sample with `resultCount` results; `sampleId` should be unique per run. */
export function simulateSample(
  sampleId: string,
  resultCount: number,
  at: number,
  random: () => number,
): SimulatedSample {
  const results: SimulatedResult[] = [];
  for (let i = 0; i < resultCount; i++) {
    const analyte = PANEL[i % PANEL.length]!;
    const span = analyte.high - analyte.low;
    // Mostly normal, now and then out of range on either side.
    const roll = random();
    const raw =
      roll < 0.08
        ? analyte.low - span * 0.3 * random()
        : roll > 0.92
          ? analyte.high + span * 0.5 * random()
          : analyte.low + span * random();
    const value = Math.max(0, raw).toFixed(analyte.decimals);
    const numeric = Number(value);
    const flag = numeric < analyte.low ? 'L' : numeric > analyte.high ? 'H' : 'N';
    const suffix = i >= PANEL.length ? String(Math.floor(i / PANEL.length) + 1) : '';
    results.push({
      code: analyte.code + suffix,
      name: analyte.name,
      value,
      units: analyte.units,
      range: `${analyte.low} to ${analyte.high}`,
      flag,
    });
  }
  const year = 1940 + Math.floor(random() * 70);
  return {
    sampleId,
    patientId: `P${String(Math.floor(random() * 1_000_000)).padStart(6, '0')}`,
    surname: pick(SURNAMES, random),
    given: pick(GIVEN, random),
    birthDate: `${year}0${1 + Math.floor(random() * 9)}1${Math.floor(random() * 9)}`,
    sex: random() < 0.5 ? 'F' : 'M',
    observedAt: astmTimestamp(at),
    results,
  };
}

/** E1394 records (without CR) for one sample, as an analyzer reports it. */
export function astmRecords(sample: SimulatedSample, at: number): string[] {
  return encodeAstmMessage({
    header: {
      sender: ['LABGW-SIM', '1.0', 'SIM0001'],
      processingId: 'P',
      version: 'LIS2-A2',
      timestamp: astmTimestamp(at),
    },
    patients: [
      {
        patientId: sample.patientId,
        name: [sample.surname, sample.given],
        birthDate: sample.birthDate,
        sex: sample.sex,
        orders: [
          {
            specimenId: sample.sampleId,
            tests: sample.results.map((r) => r.code),
            priority: 'R',
            reportType: 'F',
            results: sample.results.map((r) => ({
              test: r.code,
              value: r.value,
              units: r.units,
              referenceRange: r.range,
              flags: r.flag,
              status: 'F',
              completedAt: sample.observedAt,
            })),
          },
        ],
      },
    ],
    termination: 'N',
  });
}

/** An ORU^R01 (v2.5.1) for one sample, segments joined by CR. */
export function hl7Oru(sample: SimulatedSample, controlId: string, at: number): string {
  const e = (text: string) => escapeHl7(text, DEFAULT_ENCODING);
  const now = astmTimestamp(at);
  const segments = [
    `MSH|^~\\&|LABGW-SIM|BENCH|LIS|LAB|${now}||ORU^R01^ORU_R01|${controlId}|P|2.5.1||||||UNICODE UTF-8`,
    `PID|1||${sample.patientId}^^^LAB^MR||${e(sample.surname)}^${e(sample.given)}||${sample.birthDate}|${sample.sex}`,
    `OBR|1||${sample.sampleId}|PANEL^Panel^L|||${sample.observedAt}`,
    ...sample.results.map(
      (r, i) =>
        `OBX|${i + 1}|NM|${r.code}^${e(r.name)}^L||${r.value}|${e(r.units)}|${e(r.range)}|${r.flag}|||F|||${sample.observedAt}`,
    ),
    `SPM|1|${sample.sampleId}||SER^Serum^HL70487`,
  ];
  return segments.join('\r');
}
