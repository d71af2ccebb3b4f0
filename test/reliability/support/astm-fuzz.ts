/**
 * ASTM E1381 fuzzing through a real socket. The fuzzer plays a stop-and-wait analyzer: ENQ, then
 * frame after frame, each answered before the next goes out, so every reply byte belongs to the
 * frame just sent. Before a frame it may send a bent copy of it (checksum, frame number,
 * restricted byte, oversized, cut short, repeated, junk before it) or abort the session with EOT.
 * Now and then a second connection gets random bytes or a whole session with bytes flipped
 * anywhere, sent without waiting: there only the whole-run invariants apply.
 */
import { ACK, CR, ENQ, EOT, ETX, NAK, STX } from '../../../src-main/protocols/astm/control';
import {
  encodeFrame,
  layoutFrames,
  type OutgoingFrame,
} from '../../../src-main/protocols/astm/frame';
import { recordsToBytes } from '../../../src-main/protocols/astm/message';
import { astmRecords, simulateSample } from '../../../src-main/simulator/content';
import type { Store } from '../../../src-main/store/store';
import type { EventTap } from './gateway-harness';
import { FuzzTally } from './fuzz-tally';
import type { Rng } from './random';
import { RawPeer, eventually, sleep, writeChunked } from './wire';

export const ASTM_PROPERTIES = {
  badFrames:
    'every bad frame (checksum, frame number, restricted byte, oversized) is answered NAK and its code logged',
  documented:
    'cut frames, repeated frames, junk between frames and aborted sessions get the documented reply and code',
  validFrames: 'every ENQ and every valid frame is answered ACK, with no stray reply',
  ackedStored: 'every message whose last frame was ACKed is stored exactly once',
  chaosOnce: 'no message is stored twice, whatever arrived',
  answered: 'the gateway answers within the deadline (no stalled connection)',
} as const;

export interface AstmLimits {
  maxFrameText: number;
}

const AT = Date.UTC(2026, 10, 26, 9, 30, 0);
const PRINTABLE = Array.from({ length: 0x7f - 0x20 }, (_, i) => 0x20 + i);
/** Restricted in frame text yet neither a frame end nor a frame cutter (see E1381 6.6). */
const RESTRICTED_INSIDE = [0x01, 0x06, 0x0a, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16];
/** Anything but ENQ, which is the only byte an idle line answers. */
const IDLE_JUNK = Array.from({ length: 256 }, (_, i) => i).filter((b) => b !== ENQ);
/** Bytes a receiving line ignores between frames: no control byte it reacts to. */
const BETWEEN_FRAMES = Array.from({ length: 256 }, (_, i) => i).filter(
  (b) => b !== STX && b !== ENQ && b !== EOT && b !== ACK && b !== NAK,
);
const CHECK_CHARS = [...'0123456789ABCDEFGHJKXYZ'].map((c) => c.charCodeAt(0));

type Mutation =
  | 'checksum'
  | 'checksum-char'
  | 'wrong-number'
  | 'non-digit-number'
  | 'restricted'
  | 'oversized'
  | 'cut'
  | 'junk-before'
  | 'repeat'
  | 'abort';

const NAK_MUTATIONS: Record<string, string> = {
  checksum: 'ASTM_BAD_CHECKSUM',
  'checksum-char': 'ASTM_BAD_CHECKSUM',
  'wrong-number': 'ASTM_BAD_FRAME_NUMBER',
  'non-digit-number': 'ASTM_BAD_FRAME_NUMBER',
  restricted: 'ASTM_RESTRICTED_CHARACTER',
  oversized: 'ASTM_FRAME_TOO_LARGE',
};

const MUTATIONS: Mutation[] = [
  'checksum',
  'checksum',
  'checksum-char',
  'wrong-number',
  'wrong-number',
  'non-digit-number',
  'restricted',
  'oversized',
  'cut',
  'cut',
  'junk-before',
  'repeat',
  'abort',
];

function parts(frame: Buffer): { number: number; text: Buffer; final: boolean } {
  return {
    number: frame[1]! - 0x30,
    text: frame.subarray(2, frame.length - 5),
    final: frame[frame.length - 5] === ETX,
  };
}

/** A copy of `frame` broken the way `mutation` says (NAK kinds only). */
function breakFrame(
  frame: Buffer,
  mutation: Mutation,
  rng: Rng,
  limits: AstmLimits,
  last: number | null,
): Buffer {
  const { number, text, final } = parts(frame);
  switch (mutation) {
    case 'checksum': {
      const copy = Buffer.from(frame);
      const at = rng.int(2, frame.length - 6);
      let byte = rng.pick(PRINTABLE);
      if (byte === copy[at]) byte = byte === 0x41 ? 0x42 : 0x41;
      copy[at] = byte;
      return copy;
    }
    case 'checksum-char': {
      const copy = Buffer.from(frame);
      const at = frame.length - (rng.chance(0.5) ? 4 : 3);
      let byte = rng.pick(CHECK_CHARS);
      if (byte === copy[at]) byte = byte === 0x5a ? 0x59 : 0x5a;
      copy[at] = byte;
      return copy;
    }
    case 'wrong-number': {
      const choices = [0, 1, 2, 3, 4, 5, 6, 7].filter((n) => n !== number && n !== last);
      return encodeFrame(rng.pick(choices), text, final);
    }
    case 'non-digit-number': {
      const copy = Buffer.from(frame);
      copy[1] = rng.pick(PRINTABLE.filter((b) => b < 0x30 || b > 0x37));
      return copy;
    }
    case 'restricted': {
      const at = rng.int(0, text.length);
      const bent = Buffer.concat([
        text.subarray(0, at),
        Buffer.of(rng.pick(RESTRICTED_INSIDE)),
        text.subarray(at),
      ]);
      return encodeFrame(number, bent, final);
    }
    default: {
      const size = limits.maxFrameText + rng.int(1, limits.maxFrameText);
      return encodeFrame(number, rng.bytes(size, PRINTABLE), final);
    }
  }
}

interface MutationPlan {
  bytes: Buffer;
  want: number;
  code: string | null;
  property: string;
  /** The unit ends with the real frame, so its ACK accepts that frame. */
  carriesFrame: boolean;
}

function planMutation(
  mutation: Exclude<Mutation, 'abort'>,
  frame: Buffer,
  lastFrame: Buffer | null,
  lastNumber: number | null,
  rng: Rng,
  limits: AstmLimits,
): MutationPlan {
  const documented = ASTM_PROPERTIES.documented;
  switch (mutation) {
    case 'cut': {
      // At most up to ETX: the checksum never completes, and the real frame's STX cuts it.
      const cut = frame.subarray(0, rng.int(1, frame.length - 4));
      return {
        bytes: Buffer.concat([cut, frame]),
        want: ACK,
        code: 'ASTM_BAD_FRAME',
        property: documented,
        carriesFrame: true,
      };
    }
    case 'junk-before':
      return {
        bytes: Buffer.concat([rng.bytes(rng.int(1, 64), BETWEEN_FRAMES), frame]),
        want: ACK,
        code: null,
        property: documented,
        carriesFrame: true,
      };
    case 'repeat':
      return {
        bytes: lastFrame!,
        want: ACK,
        code: 'ASTM_DUPLICATE_FRAME',
        property: documented,
        carriesFrame: false,
      };
    default:
      return {
        bytes: breakFrame(frame, mutation, rng, limits, lastNumber),
        want: NAK,
        code: NAK_MUTATIONS[mutation]!,
        property: ASTM_PROPERTIES.badFrames,
        carriesFrame: false,
      };
  }
}

function sessionFrames(rng: Rng, sampleId: string): OutgoingFrame[] {
  const sample = simulateSample(sampleId, rng.int(1, 4), AT, () => rng.next());
  const records = astmRecords(sample, AT);
  if (rng.chance(0.1)) {
    // A long comment after the order: a record spread over many intermediate (ETB) frames.
    records.splice(3, 0, `C|1|I|${'LONG COMMENT '.repeat(rng.int(20, 200))}|G`);
  }
  const frameSize = rng.pick([240, 240, 64, rng.int(16, 300)]);
  return layoutFrames(recordsToBytes(records, 'latin1'), frameSize, 1);
}

export interface AstmFuzzOptions {
  port: number;
  instrumentId: string;
  workerId: string;
  inputs: number;
  rng: Rng;
  tap: EventTap;
  limits: AstmLimits;
  replyMs: number;
  /** Share of inputs sent as chaos on a second connection. */
  chaosShare?: number;
}

export interface AstmFuzzWorkerResult {
  tally: FuzzTally;
  /** Sample IDs whose last frame the gateway ACKed. */
  acked: Set<string>;
  sessions: number;
}

function name(byte: number | null): string {
  if (byte === null) return 'nothing';
  if (byte === ACK) return 'ACK';
  if (byte === NAK) return 'NAK';
  return `0x${byte.toString(16).padStart(2, '0')}`;
}

export async function runAstmFuzzWorker(options: AstmFuzzOptions): Promise<AstmFuzzWorkerResult> {
  const { rng, tap, instrumentId, replyMs } = options;
  const tally = new FuzzTally(Object.values(ASTM_PROPERTIES));
  const acked = new Set<string>();
  const chaosShare = options.chaosShare ?? 0.06;
  let peer = await RawPeer.connect(options.port);
  let done = 0;
  let sessions = 0;

  const reconnect = async () => {
    peer.destroy();
    peer = await RawPeer.connect(options.port);
  };
  /** Writes `bytes` and returns the reply (or null), failing `answered` on silence if one is due. */
  const exchange = async (
    bytes: Buffer,
    where: string,
    replyDue = true,
  ): Promise<number | null> => {
    if (peer.replies.length > 0) {
      tally.fail(
        ASTM_PROPERTIES.validFrames,
        `${where}: stray reply ${name(peer.replies[0]!)} before it was sent`,
      );
      peer.replies.length = 0;
    }
    await writeChunked(peer.socket, bytes, rng);
    if (!replyDue) return null;
    const reply = await peer.nextByte(replyMs);
    if (reply === null) {
      tally.fail(ASTM_PROPERTIES.answered, `${where}: no reply within ${replyMs} ms`);
    }
    return reply;
  };

  try {
    while (done < options.inputs) {
      if (rng.chance(chaosShare)) {
        done++;
        await chaos(options, rng, tally, `chaos ${done}`);
        continue;
      }
      const sampleId = `AF${options.workerId}${(sessions++).toString(36).toUpperCase()}`;
      const frames = sessionFrames(rng, sampleId);
      const session = `session ${sampleId} (seed ${rng.seed})`;

      if (rng.chance(0.05)) {
        done++;
        tally.input('junk on the idle line');
        await exchange(rng.bytes(rng.int(1, 64), IDLE_JUNK), `${session} idle junk`, false);
        tally.answer('junk on the idle line', 'no reply');
      }
      const enq = await exchange(Buffer.of(ENQ), `${session} ENQ`);
      tap.take(instrumentId);
      if (enq !== ACK) {
        if (enq !== null) {
          tally.fail(ASTM_PROPERTIES.validFrames, `${session}: ENQ answered ${name(enq)}`);
        }
        await reconnect();
        continue;
      }

      let lastNumber: number | null = null;
      let lastFrame: Buffer | null = null;
      let aborted = false;
      let stalled = false;
      for (let k = 0; k < frames.length && !stalled; k++) {
        const frame = frames[k]!.bytes;
        const where = `${session} frame ${k + 1}/${frames.length}`;
        if (done < options.inputs && rng.chance(0.45)) {
          let mutation = rng.pick(MUTATIONS);
          if ((mutation === 'repeat' && !lastFrame) || (mutation === 'abort' && k === 0)) {
            mutation = 'checksum';
          }
          done++;
          tally.input(mutation);
          const at = `${where} ${mutation}`;
          tap.take(instrumentId);
          if (mutation === 'abort') {
            await exchange(Buffer.of(EOT), at, false);
            tally.answer(mutation, 'no reply');
            const logged = await eventually(
              () => tap.peek(instrumentId).some((e) => e.code === 'ASTM_INCOMPLETE_MESSAGE'),
              replyMs,
            );
            if (!logged) {
              tally.fail(ASTM_PROPERTIES.documented, `${at}: ASTM_INCOMPLETE_MESSAGE not logged`);
            }
            aborted = true;
            break;
          }
          const plan = planMutation(mutation, frame, lastFrame, lastNumber, rng, options.limits);
          const reply = await exchange(plan.bytes, at);
          tally.answer(mutation, name(reply));
          const codes = tap.take(instrumentId).flatMap((e) => (e.code ? [e.code] : []));
          if (reply === null) {
            stalled = true;
            break;
          }
          if (reply !== plan.want || (plan.code !== null && !codes.includes(plan.code))) {
            const wanted = `${name(plan.want)}${plan.code ? ` and ${plan.code}` : ''}`;
            tally.fail(
              plan.property,
              `${at}: answered ${name(reply)}, logged [${codes.join(', ')}]; expected ${wanted}`,
            );
          }
          if (plan.carriesFrame && reply === ACK) {
            lastNumber = frames[k]!.number;
            lastFrame = frame;
            if (k === frames.length - 1) acked.add(sampleId);
            continue;
          }
        }
        const reply = await exchange(frame, where);
        if (reply === null) {
          stalled = true;
          break;
        }
        if (reply !== ACK) {
          const codes = tap.take(instrumentId).flatMap((e) => (e.code ? [e.code] : []));
          tally.fail(
            ASTM_PROPERTIES.validFrames,
            `${where}: answered ${name(reply)}, logged [${codes.join(', ')}]`,
          );
          stalled = true;
          break;
        }
        lastNumber = frames[k]!.number;
        lastFrame = frame;
        if (k === frames.length - 1) acked.add(sampleId);
      }
      if (stalled) {
        await reconnect();
        continue;
      }
      if (!aborted) await exchange(Buffer.of(EOT), `${session} EOT`, false);
    }
  } finally {
    peer.destroy();
  }
  return { tally, acked, sessions };
}

/** Random bytes, or a whole session with bytes flipped anywhere, on a connection of its own. */
async function chaos(
  options: AstmFuzzOptions,
  rng: Rng,
  tally: FuzzTally,
  where: string,
): Promise<void> {
  let bytes: Buffer;
  let category: string;
  if (rng.chance(0.5)) {
    category = 'chaos: random bytes';
    bytes = rng.bytes(rng.int(1, 400));
  } else {
    category = 'chaos: session with flipped bytes, not waiting';
    const frames = sessionFrames(rng, `AC${options.workerId}${rng.int(0, 2 ** 30).toString(36)}`);
    bytes = Buffer.concat([Buffer.of(ENQ), ...frames.map((f) => f.bytes), Buffer.of(EOT)]);
    for (let flips = rng.int(1, 3); flips > 0; flips--) {
      const at = rng.int(0, bytes.length - 1);
      bytes[at] = (bytes[at]! + rng.int(1, 255)) & 0xff;
    }
  }
  tally.input(category);
  const peer = await RawPeer.connect(options.port);
  await writeChunked(peer.socket, bytes, rng);
  // Whatever the line state, these end any frame and session left open, then the connection.
  peer.socket.write(Buffer.of(STX, EOT, CR));
  const closed = await peer.end(options.replyMs);
  if (!closed) {
    tally.fail(ASTM_PROPERTIES.answered, `${where}: the gateway did not close after our end`);
    peer.destroy();
  }
  tally.answer(category, peer.replies.length > 0 ? 'replied' : 'no reply');
  // The closed session's own notes (incomplete message) must not count against the next input.
  await sleep(5);
  options.tap.take(options.instrumentId);
}

/** Whole-run checks against the store for the fuzzed instrument. */
export function checkAstmStore(
  store: Store,
  instrumentId: string,
  results: AstmFuzzWorkerResult[],
  tally: FuzzTally,
  seed: number,
): { rows: number } {
  const complete = new Map<string, number>();
  let rows = 0;
  for (const message of store.messagesForCli({ instrumentId })) {
    rows++;
    if (message.status === 'incomplete' || message.direction !== 'in') continue;
    for (const id of message.sampleIds) complete.set(id, (complete.get(id) ?? 0) + 1);
  }
  for (const result of results) {
    for (const id of result.acked) {
      const n = complete.get(id) ?? 0;
      if (n !== 1) {
        tally.fail(
          ASTM_PROPERTIES.ackedStored,
          `${id}: last frame ACKed, stored ${n} times (seed ${seed})`,
        );
      }
    }
  }
  for (const [id, n] of complete) {
    if (n > 1) tally.fail(ASTM_PROPERTIES.chaosOnce, `${id} stored ${n} times (seed ${seed})`);
  }
  return { rows };
}
