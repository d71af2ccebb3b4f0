import { decodeMessages } from '../protocols/astm/message';
import { bytesToText } from '../protocols/astm/records';
import type { ProtocolError } from '../protocols/errors';
import { readAstmMessages, readAstmQuerySampleIds } from '../profiles/read-message';
import type { MessageExchange, NewMessage } from '../store/types';
import { dedupeKey, distinct, type InstrumentContext } from './context';

/** What arrived of one inbound ASTM message, framed or bare. */
export interface AstmArrival {
  /** Record bytes; records end with CR. */
  text: Buffer;
  /** The bytes as received. */
  raw: Buffer;
  /** Problems seen below the records (frames, how the message ended). */
  errors: ProtocolError[];
  /** Where `raw` lies in the connection's stream, when known. */
  exchange?: MessageExchange;
}

export interface AstmRowOptions {
  /** `stored`: complete; `incomplete`: cut short. */
  status: 'stored' | 'incomplete';
  /** What was answered (`ACK`), or null when nothing is sent back. */
  ack: 'ACK' | null;
  /**
   * Codes that describe how the message ended rather than a fault in it: kept on the message
   * for the technician, without making it an error, and replacing the decoder's "no L record".
   */
  endingCodes?: ReadonlySet<string>;
}

/** The row to store for an inbound ASTM message, and how many host queries (Q records) it carries. */
export function astmMessageRow(
  context: InstrumentContext,
  message: AstmArrival,
  options: AstmRowOptions,
): { row: NewMessage; queries: number } {
  const { config, clock } = context;
  const text = bytesToText(message.text, config.encoding);
  const decoded = decodeMessages(text);
  const { results, notes } = readAstmMessages(decoded, config);
  const queried = readAstmQuerySampleIds(decoded, config);
  const endingCodes = options.endingCodes ?? NO_CODES;
  const endedKnowingly = message.errors.some((e) => endingCodes.has(e.code));
  const errors = [
    ...message.errors,
    ...decoded
      .flatMap((m) => m.errors)
      .filter((e) => !(endedKnowingly && e.code === 'ASTM_NO_TERMINATOR')),
    ...notes,
    ...queried.notes,
  ];
  for (const note of [...notes, ...queried.notes]) context.note('warn', note.code, note.message);
  // Frame problems of a message that then arrived whole were recovered (the frame was NAKed and
  // sent again); only problems in its records make a stored message one with problems.
  const faults = (
    options.status === 'stored' ? errors.slice(message.errors.length) : errors
  ).filter((e) => !endingCodes.has(e.code));
  const queries = decoded.flatMap((m) => m.queries);
  const header = decoded[0]?.header ?? null;
  const joined = decoded.map((m) => m.text).join('\r');
  const row: NewMessage = {
    instrumentId: config.id,
    protocol: 'astm',
    direction: 'in',
    receivedAt: clock.now(),
    controlId: header?.messageControlId ?? null,
    text: joined || text,
    raw: message.raw,
    ack: options.status === 'stored' ? options.ack : null,
    status: options.status === 'stored' && faults.length > 0 ? 'error' : options.status,
    errors,
    results,
    profile: config.profile ?? null,
    sampleIds: distinct([...results.map((r) => r.sampleId), ...queried.sampleIds]),
    patientIds: distinct([...results.map((r) => r.patientId), ...queries.map((q) => q.patientId)]),
    // A byte-identical message with a timestamp in its header is a resend, not a new result.
    dedupeKey: options.status === 'stored' && header?.timestamp ? dedupeKey('astm', text) : null,
    ...(message.exchange ? { exchange: message.exchange } : {}),
  };
  return { row, queries: queries.length };
}

const NO_CODES: ReadonlySet<string> = new Set();
