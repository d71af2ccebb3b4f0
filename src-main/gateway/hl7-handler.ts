import type { ConnectionHandler, LinkCloseReason, LinkConnection } from '../links/types';
import { decideAcks, type AckOutcome, type Hl7Ack } from '../protocols/hl7/ack';
import type { Hl7Message } from '../protocols/hl7/message';
import { readHl7Payload } from '../protocols/hl7/payload';
import { MLLP_COMMIT_ACK, MLLP_COMMIT_NAK, MllpFramer, frameMllp } from '../protocols/hl7/mllp';
import type { ProtocolError } from '../protocols/errors';
import { readHl7Message } from '../profiles/read-message';
import type { NewMessage } from '../store/types';
import { dedupeKey, distinct, storageProblem, type InstrumentContext } from './context';

/**
 * One MLLP connection receiving HL7. Each message is committed before its ACK is written; when
 * the commit fails the sender gets AR (CR in enhanced mode) saying storage failed. Messages of one
 * read are committed together, and ACKs go out in the order the messages came in.
 */
export class Hl7ConnectionHandler implements ConnectionHandler {
  private readonly framer: MllpFramer;
  /** ACK writes wait on this chain so they leave in arrival order. */
  private tail: Promise<void> = Promise.resolve();
  private inFlight = 0;

  constructor(
    private readonly connection: LinkConnection,
    private readonly context: InstrumentContext,
  ) {
    this.framer = new MllpFramer({ maxMessageBytes: context.config.maxMessageBytes });
  }

  get buffered(): number {
    return this.framer.buffered;
  }

  get busy(): boolean {
    return this.inFlight > 0 || this.framer.inBlock;
  }

  onData(chunk: Buffer): void {
    for (const item of this.framer.push(chunk)) {
      if (item.kind === 'message') this.receive(item.payload);
      else if (item.kind === 'error') {
        this.context.protocolError(item.error, this.connection.id);
        if (item.partial && item.partial.length > 0) this.keepUnreadable(item.partial, item.error);
      }
    }
  }

  onClose(_reason: LinkCloseReason): void {
    const partial = this.framer.inBlock && this.framer.buffered > 0;
    if (partial) {
      this.context.note(
        'warn',
        'MLLP_INCOMPLETE_BLOCK',
        `the connection closed in the middle of a message (${this.framer.buffered} bytes); it was not acknowledged`,
      );
    }
    this.framer.reset();
  }

  private receive(payload: Buffer): void {
    const { config, clock } = this.context;
    const decoded = readHl7Payload(payload, { defaultCharset: config.encoding });
    const message = decoded.message;
    if (!message) {
      // Without a readable MSH there is no control ID to acknowledge; keep the bytes anyway.
      const problem = decoded.errors.at(-1) ?? { code: 'HL7_NO_MSH', message: 'no MSH segment' };
      this.context.protocolError(problem as ProtocolError, this.connection.id);
      this.keepUnreadable(payload, problem as ProtocolError, decoded.text);
      return;
    }
    const errors = decoded.errors;
    const { results, notes } = readHl7Message(message, config);
    const msh = message.msh;
    const isAck = msh.messageType.code.toUpperCase() === 'ACK';
    const row: NewMessage = {
      instrumentId: config.id,
      protocol: 'hl7',
      direction: 'in',
      receivedAt: clock.now(),
      controlId: msh.controlId || null,
      text: message.toString().replace(/\r$/, ''),
      raw: payload,
      ack: null,
      status: errors.length + notes.length > 0 ? 'error' : 'stored',
      // Where the profile did not fit is the gateway's problem, not the sender's: kept with the
      // message, never answered AE.
      errors: [...errors, ...notes],
      results,
      profile: config.profile ?? null,
      sampleIds: distinct(results.map((r) => r.sampleId)),
      patientIds: distinct([...results.map((r) => r.patientId), message.get('PID', 3) || null]),
      dedupeKey: msh.controlId ? dedupeKey(`hl7:${msh.controlId}`, decoded.text) : null,
    };
    for (const error of errors) this.context.protocolError(error, this.connection.id);
    for (const note of notes) this.context.note('warn', note.code, note.message);

    // The answer is decided before the commit so the stored row records it. A message with
    // problems is still kept (status "error"), and the sender is told with AE (CE).
    const accepted = isAck ? [] : this.acks(message, outcomeFor(errors));
    row.ack = accepted.map((ack) => ack.code).join(' ') || null;

    this.inFlight++;
    const answer: Promise<Buffer[]> = this.context.persist(row).then(
      (outcome) => {
        this.context.stored(row, outcome);
        return this.wire(accepted, true);
      },
      (error: unknown) => {
        const problem = storageProblem(error);
        this.context.storageFailed(error, 'the sender was answered AR');
        if (isAck) return [];
        const rejected = this.acks(message, {
          kind: 'rejected',
          reason: 'storage',
          text: `not stored, please resend: ${problem.message}`,
        });
        return this.wire(rejected, false);
      },
    );
    this.tail = this.tail
      .then(() => answer)
      .then(
        (chunks) => {
          for (const chunk of chunks) this.connection.write(chunk);
        },
        () => undefined,
      )
      .finally(() => {
        this.inFlight--;
      });
  }

  private acks(message: Hl7Message, outcome: AckOutcome): Hl7Ack[] {
    return decideAcks(message, outcome, {
      now: this.context.clock.now(),
      utcOffsetMinutes: -new Date(this.context.clock.now()).getTimezoneOffset(),
      controlId: () => this.context.nextControlId(),
      application: 'LABGATEWAY',
      facility: this.context.config.id,
    });
  }

  private wire(acks: Hl7Ack[], stored: boolean): Buffer[] {
    const chunks = acks.map((ack) => frameMllp(ack.payload));
    if (this.context.config.hl7.mllpCommitAck) {
      chunks.unshift(stored ? MLLP_COMMIT_ACK : MLLP_COMMIT_NAK);
    }
    return chunks;
  }

  /** Bytes that could not be read as HL7 are still kept, with the reason, never dropped. */
  private keepUnreadable(payload: Buffer, problem: ProtocolError, text?: string): void {
    const { config, clock } = this.context;
    const row: NewMessage = {
      instrumentId: config.id,
      protocol: 'hl7',
      direction: 'in',
      receivedAt: clock.now(),
      controlId: null,
      text: text ?? payload.toString('latin1'),
      raw: payload,
      ack: null,
      status: 'error',
      errors: [{ code: problem.code, message: problem.message }],
      results: [],
    };
    this.context.persist(row).then(
      (outcome) => this.context.stored(row, outcome),
      (error: unknown) => this.context.storageFailed(error, 'an unreadable message was lost'),
    );
  }
}

/** HL7 table 0357 code for a problem found in a message. */
function errorCodeFor(code: string): '100' | '102' | '207' {
  if (code === 'HL7_BAD_SEGMENT') return '100';
  if (code === 'HL7_BAD_ENCODING' || code === 'HL7_BAD_MSH') return '102';
  return '207';
}

function outcomeFor(errors: readonly ProtocolError[]): AckOutcome {
  const unsupported = errors.find((e) => e.code === 'HL7_UNSUPPORTED_CHARSET');
  if (unsupported) {
    return { kind: 'rejected', reason: 'unsupported-charset', text: unsupported.message };
  }
  const first = errors[0];
  if (!first) return { kind: 'accepted' };
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more problems)` : '';
  return { kind: 'error', code: errorCodeFor(first.code), text: `${first.message}${more}` };
}
