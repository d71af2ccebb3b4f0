/**
 * Valid analyzer output built from the simulator's content, and the two ways of delivering it:
 * an HL7 message waiting for its ACK, an ASTM session frame by frame (stop and wait).
 */
import { ACK, ENQ, EOT } from '../../../src-main/protocols/astm/control';
import { layoutFrames } from '../../../src-main/protocols/astm/frame';
import { recordsToBytes } from '../../../src-main/protocols/astm/message';
import { frameMllp } from '../../../src-main/protocols/hl7/mllp';
import { astmRecords, hl7Oru, simulateSample } from '../../../src-main/simulator/content';
import { seededRng } from './random';
import type { AckReader, RawPeer, ReceivedAck } from './wire';

/** One moment for every generated message, so the same ID always gives the same bytes. */
export const FIXED_AT = Date.UTC(2026, 10, 26, 9, 30, 0);

function randomFor(id: string): () => number {
  let hash = 2_166_136_261;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 16_777_619);
  return seededRng(hash >>> 0).next;
}

/** An ORU^R01 (UTF-8) with `results` results; the same control ID always gives the same text. */
export function oruText(controlId: string, results = 3): string {
  const sample = simulateSample(`S${controlId}`, results, FIXED_AT, randomFor(controlId));
  return hl7Oru(sample, controlId, FIXED_AT);
}

export function oruFramed(controlId: string, results = 3): Buffer {
  return frameMllp(Buffer.from(oruText(controlId, results), 'utf8'));
}

/** The frames of one E1394 message for `sampleId`, the same bytes for the same sample ID. */
export function astmFrames(sampleId: string, results = 3, frameSize = 240): Buffer[] {
  const sample = simulateSample(sampleId, results, FIXED_AT, randomFor(sampleId));
  const records = recordsToBytes(astmRecords(sample, FIXED_AT), 'latin1');
  return layoutFrames(records, frameSize, 1).map((frame) => frame.bytes);
}

/** Sends one message and waits for its ACK; null when none came in time. */
export async function sendHl7(
  reader: AckReader,
  controlId: string,
  replyMs: number,
  results = 3,
): Promise<ReceivedAck | null> {
  reader.peer.socket.write(oruFramed(controlId, results));
  const acks = await reader.through(controlId, replyMs);
  return acks?.at(-1) ?? null;
}

export type AstmSessionOutcome =
  | { kind: 'acked' }
  | { kind: 'refused'; at: 'enq' | number; reply: number }
  | { kind: 'silent'; at: 'enq' | number };

/**
 * ENQ, every frame, EOT, each frame waiting for its reply. A frame answered NAK is sent again,
 * up to `retries` times, as E1381 asks of a sender.
 */
export async function sendAstmSession(
  peer: RawPeer,
  frames: readonly Buffer[],
  replyMs: number,
  retries = 0,
): Promise<AstmSessionOutcome> {
  peer.socket.write(Buffer.of(ENQ));
  const answer = await peer.nextByte(replyMs);
  if (answer === null) return { kind: 'silent', at: 'enq' };
  if (answer !== ACK) return { kind: 'refused', at: 'enq', reply: answer };
  for (const [index, frame] of frames.entries()) {
    for (let attempt = 0; ; attempt++) {
      peer.socket.write(frame);
      const reply = await peer.nextByte(replyMs);
      if (reply === null) return { kind: 'silent', at: index };
      if (reply === ACK) break;
      if (attempt >= retries) {
        peer.socket.write(Buffer.of(EOT));
        return { kind: 'refused', at: index, reply };
      }
    }
  }
  peer.socket.write(Buffer.of(EOT));
  return { kind: 'acked' };
}
