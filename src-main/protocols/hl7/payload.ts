/**
 * One MLLP payload to a parsed message in a single call that never throws: bytes decoded by
 * MSH-18, `\Xhh\` escapes read in the same charset, every problem collected as a coded error.
 */
import { protocolError, type ProtocolError } from '../errors';
import { decodeHl7Bytes, type CharsetOptions, type Hl7Charset } from './charset';
import { Hl7ParseError, parseHl7, type Hl7Message } from './message';

export interface Hl7Payload {
  /** null when the payload has no usable MSH (the reason is in `errors`). */
  message: Hl7Message | null;
  /** The payload as text. */
  text: string;
  charset: Hl7Charset;
  /** Charset problems, then parse problems (fatal or not). */
  errors: ProtocolError[];
}

export function readHl7Payload(payload: Buffer, options: CharsetOptions = {}): Hl7Payload {
  const decoded = decodeHl7Bytes(payload, options);
  const errors = [...decoded.errors];
  let message: Hl7Message | null = null;
  try {
    message = parseHl7(decoded.text, {
      hexCharset: decoded.charset === 'utf8' ? 'utf8' : 'latin1',
    });
    errors.push(...message.errors);
  } catch (error) {
    errors.push(
      error instanceof Hl7ParseError
        ? protocolError(error.code, error.message)
        : protocolError('HL7_NOT_HL7', `the message could not be read: ${String(error)}`),
    );
  }
  return { message, text: decoded.text, charset: decoded.charset, errors };
}
