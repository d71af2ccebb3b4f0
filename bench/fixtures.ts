/**
 * Benchmark input: the same bytes in every run (seeded), shaped like what analyzers send. HL7
 * ORU^R01 messages carry the delimiters and escapes real ones do (repetitions, subcomponents,
 * \S\ \T\ \F\ \R\ \E\, non-ASCII names in UTF-8); ASTM messages are the simulator's E1394
 * records laid out in E1381 frames.
 */
import { ENQ, EOT } from '../src-main/protocols/astm/control';
import { layoutFrames } from '../src-main/protocols/astm/frame';
import { recordsToBytes } from '../src-main/protocols/astm/message';
import { DEFAULT_ENCODING } from '../src-main/protocols/hl7/encoding';
import { escapeHl7 } from '../src-main/protocols/hl7/escape';
import { astmRecords, astmTimestamp, simulateSample } from '../src-main/simulator/content';

/** Fixed, so that the timestamps (and so the byte counts) do not change from run to run. */
export const BENCH_TIME = Date.UTC(2026, 0, 15, 9, 30, 0);

/** mulberry32: small, fast and good enough to vary content. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** IDs of one fixed width, so every message of a corpus has the same shape whatever its number. */
export function fixedId(prefix: string, n: number, width = 9): string {
  return prefix + String(n).padStart(width, '0');
}

const NOTE =
  'Hemolysis index 2+ \\T\\ lipemia; QC lot \\F\\A-17\\F\\ accepted \\R\\ see repeat log \\E\\R2';

/**
 * One ORU^R01 (v2.5.1, UTF-8) with `results` OBX segments, an NTE after every fifth, segments
 * joined by CR. About 2.9 KB with 20 results.
 */
export function benchOru(
  controlId: string,
  sampleId: string,
  random: () => number,
  results = 20,
): string {
  const e = (text: string) => escapeHl7(text, DEFAULT_ENCODING);
  const sample = simulateSample(sampleId, results, BENCH_TIME, random);
  const at = astmTimestamp(BENCH_TIME);
  const order = `ORD${sampleId}`;
  const segments = [
    `MSH|^~\\&|LABGW-SIM|BENCH|LIS|LAB|${at}||ORU^R01^ORU_R01|${controlId}|P|2.5.1|||AL|NE||UNICODE UTF-8`,
    `PID|1||${sample.patientId}^^^LAB^MR~9434765919^^^NHS&2.16.840.1.113883.2.1.4.1&ISO^NH||` +
      `${e(sample.surname)}^${e(sample.given)}||${sample.birthDate}|${sample.sex}|||` +
      `12 Main St\\T\\Apt 4^^SPRINGFIELD^^12345^GBR`,
    `PV1|1|O|LAB^^^MAIN`,
    `ORC|RE|${order}|${sampleId}`,
    `OBR|1|${order}|${sampleId}|PANEL^Chemistry \\T\\ hematology^L|||${sample.observedAt}` +
      `|||||||${sample.observedAt}|SER&Serum&HL70487|1234^SMITH^JOHN^^^DR`,
  ];
  sample.results.forEach((r, i) => {
    segments.push(
      `OBX|${i + 1}|NM|${r.code}^${e(r.name)}^L||${r.value}|${e(r.units)}|${e(r.range)}|${r.flag}` +
        `|||F|||${sample.observedAt}||||ANALYZER-1^^^SIM&1.2.3.4&ISO`,
    );
    if (i % 5 === 4) segments.push(`NTE|${(i + 1) / 5}|L|${NOTE}`);
  });
  segments.push(`SPM|1|${sampleId}||SER^Serum^HL70487`);
  return segments.join('\r');
}

/** `count` distinct ORU messages. */
export function oruCorpus(count: number, seed = 1, results = 20): string[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, i) =>
    benchOru(fixedId('C', i), fixedId('S', i), random, results),
  );
}

/** One sample's E1394 records (no CR) with `results` R records. */
export function astmMessageRecords(sampleId: string, random: () => number, results = 10): string[] {
  return astmRecords(simulateSample(sampleId, results, BENCH_TIME, random), BENCH_TIME);
}

/** `count` distinct ASTM messages, each as record texts. */
export function astmCorpus(count: number, seed = 2, results = 10): string[][] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, i) =>
    astmMessageRecords(fixedId('S', i), random, results),
  );
}

/** The frames of one message as the analyzer sends them (one record per frame, 240-byte text). */
export function astmFrames(records: readonly string[]): Buffer[] {
  return layoutFrames(recordsToBytes(records, 'latin1')).map((frame) => frame.bytes);
}

/** What an analyzer puts on the wire: per message ENQ, its frames, EOT. */
export function astmWire(messages: readonly (readonly string[])[]): Buffer {
  const parts: Buffer[] = [];
  for (const records of messages) {
    parts.push(Buffer.of(ENQ), ...astmFrames(records), Buffer.of(EOT));
  }
  return Buffer.concat(parts);
}

/** Bare E1394 records, each ended by CR, no E1381 framing (the `raw` link framing). */
export function astmBare(messages: readonly (readonly string[])[]): Buffer {
  return Buffer.from(messages.map((records) => records.join('\r') + '\r').join(''), 'latin1');
}
