/**
 * HL7 over MLLP fuzzing through a real socket. Each input is a valid message bent one way (a
 * flipped byte, a cut block, a missing MSH, an oversized field, junk, random bytes…), written in
 * random pieces. Inputs whose answer is not an ACK of known control ID are followed by a probe,
 * a valid message of its own: ACKs leave in arrival order, so everything received before the
 * probe's ACK, and every log line emitted by then, belongs to the input.
 */
import { createHash } from 'node:crypto';
import { frameMllp } from '../../../src-main/protocols/hl7/mllp';
import { readHl7Payload } from '../../../src-main/protocols/hl7/payload';
import { hl7Oru, simulateSample } from '../../../src-main/simulator/content';
import type { Store } from '../../../src-main/store/store';
import type { EventTap } from './gateway-harness';
import { FuzzTally } from './fuzz-tally';
import type { Rng } from './random';
import { AckReader, writeChunked, type ReceivedAck } from './wire';

export const HL7_PROPERTIES = {
  wellFormed: 'well-formed messages get exactly their ACK (AA, or AR with ERR when refused)',
  unreadable: 'broken framing and unreadable messages get no ACK and a coded log event',
  parserErrors: 'messages the parser finds errors in get AE/AR or no ACK, and a coded log event',
  ackedStored: 'every AA/CA-acknowledged control ID is stored',
  storedOnce: 'well-formed messages (sent once or twice) are stored exactly once',
  oversizedDropped: 'cut and oversized messages are never stored under their control ID',
  answered: 'the gateway answers within the deadline (no stalled connection)',
} as const;

type Expectation =
  /** Exactly these ACKs, in order; and these codes among the log lines. */
  | { kind: 'acks'; acks: { code: string; controlId: string; err?: boolean }[]; codes?: string[] }
  /** Nothing is acknowledged as accepted; a log line carries one of `codes`. */
  | { kind: 'noAck'; codes: string[] }
  /** The parser reports `codes`: AE/AR (or CE/CR) or silence, and one of `codes` logged. */
  | { kind: 'parserErrors'; controlId: string; codes: string[] }
  /** Not answered (an ACK is never acknowledged), nothing else required. */
  | { kind: 'silent' }
  /** Anything may happen; only the whole-run invariants apply. */
  | { kind: 'any' };

interface Hl7Input {
  category: string;
  bytes: Buffer;
  expect: Expectation;
  /** More pieces than usual when writing it. */
  pieces?: number;
  storedOnce?: string[];
  neverStored?: string;
}

export interface Hl7Limits {
  maxMessageBytes: number;
}

const WEIGHTS: [string, number][] = [
  ['valid', 10],
  ['valid-dribbled', 4],
  ['duplicate', 5],
  ['two-in-one-write', 3],
  ['flip-body', 18],
  ['flip-any', 10],
  ['cut', 8],
  ['no-msh', 5],
  ['bad-msh', 4],
  ['oversized', 4],
  ['large-ok', 3],
  ['junk', 6],
  ['random', 8],
  ['bad-end-block', 4],
  ['unsupported-charset', 3],
  ['ack-message', 2],
];
const TOTAL_WEIGHT = WEIGHTS.reduce((sum, [, weight]) => sum + weight, 0);

function pickCategory(rng: Rng): string {
  let roll = rng.next() * TOTAL_WEIGHT;
  for (const [category, weight] of WEIGHTS) {
    roll -= weight;
    if (roll < 0) return category;
  }
  return 'valid';
}

const AT = Date.UTC(2026, 10, 26, 9, 30, 0);
const PRINTABLE = Array.from({ length: 0x7f - 0x20 }, (_, i) => 0x20 + i);
const NON_BLANK_NO_VT = Array.from({ length: 256 }, (_, i) => i).filter(
  (b) => b !== 0x0b && b > 0x20,
);

function oru(rng: Rng, controlId: string): string {
  const sample = simulateSample(`HS${controlId}`, rng.int(1, 5), AT, () => rng.next());
  return hl7Oru(sample, controlId, AT);
}

function utf8(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

/** `text` with a note segment of `size` characters after it. */
function withLongField(text: string, size: number): string {
  return `${text}\rNTE|1|L|${'N'.repeat(size)}`;
}

function parserVerdict(payload: Buffer): { controlId: string; codes: string[] } | null {
  const read = readHl7Payload(payload, { defaultCharset: 'latin1' });
  if (!read.message) return { controlId: '', codes: read.errors.map((e) => e.code) };
  if (read.errors.length === 0) return null;
  return { controlId: read.message.msh.controlId, codes: read.errors.map((e) => e.code) };
}

export function makeHl7Input(rng: Rng, controlId: string, limits: Hl7Limits): Hl7Input {
  const category = pickCategory(rng);
  const aa = (id = controlId) => ({ code: 'AA', controlId: id });
  switch (category) {
    case 'valid':
    case 'valid-dribbled': {
      const bytes = frameMllp(utf8(oru(rng, controlId)));
      return {
        category,
        bytes,
        pieces: category === 'valid-dribbled' ? 40 : 6,
        expect: { kind: 'acks', acks: [aa()] },
        storedOnce: [controlId],
      };
    }
    case 'duplicate': {
      const framed = frameMllp(utf8(oru(rng, controlId)));
      return {
        category,
        bytes: Buffer.concat([framed, framed]),
        expect: { kind: 'acks', acks: [aa(), aa()], codes: ['DUPLICATE_MESSAGE'] },
        storedOnce: [controlId],
      };
    }
    case 'two-in-one-write': {
      const second = `${controlId}-2`;
      return {
        category,
        bytes: Buffer.concat([
          frameMllp(utf8(oru(rng, controlId))),
          frameMllp(utf8(oru(rng, second))),
        ]),
        expect: { kind: 'acks', acks: [aa(), aa(second)] },
        storedOnce: [controlId, second],
      };
    }
    case 'flip-body': {
      const payload = utf8(oru(rng, controlId));
      const firstCr = payload.indexOf(0x0d);
      const at = rng.int(firstCr + 1, payload.length - 1);
      let byte = rng.pick(PRINTABLE);
      if (byte === payload[at]) byte = byte === 0x41 ? 0x42 : 0x41;
      payload[at] = byte;
      const verdict = parserVerdict(payload);
      const bytes = frameMllp(payload);
      if (verdict === null) {
        return { category, bytes, expect: { kind: 'acks', acks: [aa()] }, storedOnce: [controlId] };
      }
      return {
        category: `${category} (parser errors)`,
        bytes,
        expect: { kind: 'parserErrors', controlId, codes: verdict.codes },
      };
    }
    case 'flip-any': {
      const bytes = frameMllp(utf8(oru(rng, controlId)));
      const at = rng.int(0, bytes.length - 1);
      bytes[at] = (bytes[at]! + rng.int(1, 255)) & 0xff;
      return { category, bytes, expect: { kind: 'any' } };
    }
    case 'cut': {
      const framed = frameMllp(utf8(oru(rng, controlId)));
      // Up to the last payload byte: the end block never arrives, the probe's 0B cuts it.
      return {
        category,
        bytes: framed.subarray(0, rng.int(1, framed.length - 2)),
        expect: { kind: 'noAck', codes: ['MLLP_INCOMPLETE_BLOCK'] },
        neverStored: controlId,
      };
    }
    case 'no-msh': {
      const text = oru(rng, controlId);
      const withoutMsh = rng.chance(0.5)
        ? text.slice(text.indexOf('\r') + 1)
        : Buffer.from(rng.bytes(rng.int(1, 120), PRINTABLE)).toString('latin1');
      return {
        category,
        bytes: frameMllp(Buffer.from(withoutMsh, 'latin1')),
        expect: { kind: 'noAck', codes: ['HL7_NO_MSH'] },
        neverStored: controlId,
      };
    }
    case 'bad-msh': {
      const text = oru(rng, controlId);
      const broken = rng.chance(0.5) ? `MSHA${text.slice(4)}` : `MSH\r${text.slice(4)}`;
      return {
        category,
        bytes: frameMllp(utf8(broken)),
        expect: { kind: 'noAck', codes: ['HL7_BAD_MSH'] },
        neverStored: controlId,
      };
    }
    case 'oversized': {
      const size = limits.maxMessageBytes + rng.int(1, limits.maxMessageBytes);
      return {
        category,
        bytes: frameMllp(utf8(withLongField(oru(rng, controlId), size))),
        expect: { kind: 'noAck', codes: ['MLLP_MESSAGE_TOO_LARGE'] },
        neverStored: controlId,
      };
    }
    case 'large-ok': {
      const text = oru(rng, controlId);
      // The note segment adds its size plus "\rNTE|1|L|" (9 bytes) to the message.
      const room = limits.maxMessageBytes - utf8(text).length - 9;
      return {
        category,
        bytes: frameMllp(utf8(withLongField(text, rng.int(Math.ceil(room / 2), room)))),
        expect: { kind: 'acks', acks: [aa()] },
        storedOnce: [controlId],
      };
    }
    case 'junk':
      return {
        category,
        bytes: rng.bytes(rng.int(1, 200), NON_BLANK_NO_VT),
        expect: { kind: 'noAck', codes: ['MLLP_UNEXPECTED_BYTES'] },
      };
    case 'random':
      return { category, bytes: rng.bytes(rng.int(1, 300)), expect: { kind: 'any' } };
    case 'bad-end-block': {
      // 1C followed by LF instead of CR: the block is taken as ended there, with a coded note.
      const framed = frameMllp(utf8(oru(rng, controlId)));
      framed[framed.length - 1] = 0x0a;
      return {
        category,
        bytes: framed,
        expect: { kind: 'acks', acks: [aa()], codes: ['MLLP_BAD_END_BLOCK'] },
        storedOnce: [controlId],
      };
    }
    case 'unsupported-charset': {
      const text = oru(rng, controlId).replace('UNICODE UTF-8', 'KLINGON-8');
      return {
        category,
        bytes: frameMllp(Buffer.from(text, 'latin1')),
        expect: { kind: 'acks', acks: [{ code: 'AR', controlId, err: true }] },
      };
    }
    default: {
      const ack = `MSH|^~\\&|AN|LAB|LIS|LAB|20261126093000||ACK^R01^ACK|${controlId}|P|2.5.1\rMSA|AA|X${controlId}`;
      return { category: 'ack-message', bytes: frameMllp(utf8(ack)), expect: { kind: 'silent' } };
    }
  }
}

function probe(controlId: string): Buffer {
  return frameMllp(
    utf8(
      `MSH|^~\\&|FUZZ|BENCH|LIS|LAB|20261126093000||ORU^R01|${controlId}|P|2.5.1\rPID|1||P1\rOBR|1||S${controlId}\rOBX|1|NM|GLU||5.4|mmol/L`,
    ),
  );
}

const ACCEPTED = new Set(['AA', 'CA']);
const REFUSED = new Set(['AE', 'AR', 'CE', 'CR']);

export interface Hl7FuzzOptions {
  port: number;
  instrumentId: string;
  /** Distinguishes this worker's control IDs from other workers'. */
  workerId: string;
  inputs: number;
  rng: Rng;
  tap: EventTap;
  limits: Hl7Limits;
  replyMs: number;
}

export interface Hl7FuzzWorkerResult {
  tally: FuzzTally;
  /** Control IDs the gateway accepted (AA/CA), probes included. */
  accepted: Set<string>;
  storedOnce: Set<string>;
  neverStored: Set<string>;
}

export async function runHl7FuzzWorker(options: Hl7FuzzOptions): Promise<Hl7FuzzWorkerResult> {
  const { rng, tap, instrumentId, replyMs } = options;
  const tally = new FuzzTally(Object.values(HL7_PROPERTIES));
  const accepted = new Set<string>();
  const storedOnce = new Set<string>();
  const neverStored = new Set<string>();
  let reader = await AckReader.connect(options.port);
  tap.take(instrumentId);
  try {
    for (let index = 0; index < options.inputs; index++) {
      // The index twice: a byte flipped anywhere in one input's ID cannot make another's.
      const serial = index.toString(36).toUpperCase();
      const controlId = `FZ${options.workerId}.${serial}.${serial}`;
      const input = makeHl7Input(rng, controlId, options.limits);
      const where = `input ${index} (${input.category}, ${controlId}, seed ${rng.seed})`;
      tally.input(input.category);
      for (const id of input.storedOnce ?? []) storedOnce.add(id);
      if (input.neverStored) neverStored.add(input.neverStored);
      await writeChunked(reader.peer.socket, input.bytes, rng, input.pieces);

      let acks: ReceivedAck[] | null;
      const expect = input.expect;
      if (expect.kind === 'acks') {
        acks = await reader.take(expect.acks.length, replyMs);
      } else {
        const probeId = `PR${controlId}`;
        await writeChunked(reader.peer.socket, probe(probeId), rng);
        const through = await reader.through(probeId, replyMs);
        acks = through?.filter((ack) => ack.controlId !== probeId) ?? null;
        if (through) accepted.add(probeId);
      }
      const events = tap.take(instrumentId);
      const codes = events.flatMap((entry) => (entry.code ? [entry.code] : []));
      if (acks === null) {
        tally.fail(HL7_PROPERTIES.answered, `${where}: no answer within ${replyMs} ms`);
        tally.answer(input.category, 'stalled');
        reader.peer.destroy();
        reader = await AckReader.connect(options.port);
        continue;
      }
      for (const ack of acks) if (ACCEPTED.has(ack.code)) accepted.add(ack.controlId);
      const answer = acks.map((ack) => ack.code).join('+') || 'no ACK';
      tally.answer(input.category, answer);
      const shown = `${where}: answered ${answer}, logged [${codes.join(', ')}]`;

      switch (expect.kind) {
        case 'acks': {
          const same =
            acks.length === expect.acks.length &&
            expect.acks.every(
              (want, i) =>
                acks![i]!.code === want.code &&
                acks![i]!.controlId === want.controlId &&
                (!want.err || acks![i]!.hasErr),
            );
          const logged = (expect.codes ?? []).every((code) => codes.includes(code));
          if (!same || !logged) {
            const wanted = expect.acks.map((a) => `${a.code} ${a.controlId}`).join(', ');
            tally.fail(
              HL7_PROPERTIES.wellFormed,
              `${shown}; expected ${wanted}${expect.codes ? ` and [${expect.codes.join(', ')}]` : ''}`,
            );
          }
          break;
        }
        case 'noAck':
          if (
            acks.some((ack) => ACCEPTED.has(ack.code)) ||
            !codes.some((c) => expect.codes.includes(c))
          ) {
            tally.fail(
              HL7_PROPERTIES.unreadable,
              `${shown}; expected no ACK and one of [${expect.codes.join(', ')}]`,
            );
          }
          break;
        case 'parserErrors': {
          const refusedOrSilent = acks.every(
            (ack) => ack.controlId === expect.controlId && REFUSED.has(ack.code),
          );
          if (!refusedOrSilent || !codes.some((c) => expect.codes.includes(c))) {
            tally.fail(
              HL7_PROPERTIES.parserErrors,
              `${shown}; the parser reports [${expect.codes.join(', ')}], so expected AE/AR or no ACK, and one of those codes logged`,
            );
          }
          break;
        }
        case 'silent':
          if (acks.length > 0) tally.fail(HL7_PROPERTIES.wellFormed, `${shown}; expected no ACK`);
          break;
        case 'any':
          break;
      }
    }
  } finally {
    reader.peer.destroy();
  }
  return { tally, accepted, storedOnce, neverStored };
}

/** The whole-run checks against what the store holds for the fuzzed instrument. */
export function checkHl7Store(
  store: Store,
  instrumentId: string,
  results: Hl7FuzzWorkerResult[],
  tally: FuzzTally,
  seed: number,
): { rows: number } {
  const counts = new Map<string, number>();
  /** For a control ID stored more than once: whether the texts were the same. */
  const firstText = new Map<string, string>();
  const sameText = new Map<string, boolean>();
  let rows = 0;
  for (const message of store.messagesForCli({ instrumentId })) {
    rows++;
    const id = message.controlId;
    if (!id) continue;
    counts.set(id, (counts.get(id) ?? 0) + 1);
    const digest = createHash('sha1').update(message.text).digest('hex');
    const first = firstText.get(id);
    if (first === undefined) firstText.set(id, digest);
    else sameText.set(id, (sameText.get(id) ?? true) && first === digest);
  }
  const how = (id: string) =>
    sameText.has(id)
      ? sameText.get(id)
        ? ', the same text each time'
        : ', with different texts'
      : '';
  for (const result of results) {
    for (const id of result.accepted) {
      if (id !== '' && !counts.has(id)) {
        tally.fail(
          HL7_PROPERTIES.ackedStored,
          `${id} was acknowledged but not stored (seed ${seed})`,
        );
      }
    }
    for (const id of result.storedOnce) {
      const n = counts.get(id) ?? 0;
      if (n !== 1) {
        tally.fail(HL7_PROPERTIES.storedOnce, `${id} stored ${n} times${how(id)} (seed ${seed})`);
      }
    }
    for (const id of result.neverStored) {
      const n = counts.get(id) ?? 0;
      if (n !== 0) {
        tally.fail(HL7_PROPERTIES.oversizedDropped, `${id} stored ${n} times (seed ${seed})`);
      }
    }
  }
  return { rows };
}
