/**
 * Coded protocol errors. The code is stable for scripts and tests; the message is for a bench
 * technician: what happened, where, and what the gateway did about it.
 */
export type ProtocolErrorCode =
  // ASTM E1381 transport
  | 'ASTM_BAD_CHECKSUM'
  | 'ASTM_BAD_FRAME_NUMBER'
  | 'ASTM_DUPLICATE_FRAME'
  | 'ASTM_FRAME_REJECTED'
  | 'ASTM_BAD_FRAME'
  | 'ASTM_RESTRICTED_CHARACTER'
  | 'ASTM_FRAME_TOO_LARGE'
  | 'ASTM_MESSAGE_TOO_LARGE'
  | 'ASTM_RECEIVER_TIMEOUT'
  | 'ASTM_SENDER_TIMEOUT'
  | 'ASTM_RETRIES_EXHAUSTED'
  | 'ASTM_BUSY'
  | 'ASTM_CONTENTION'
  | 'ASTM_INTERRUPTED'
  | 'ASTM_UNEXPECTED_BYTE'
  | 'ASTM_INCOMPLETE_MESSAGE'
  | 'ASTM_STORAGE_FAILED'
  | 'ASTM_SESSION_CLOSED'
  // ASTM E1394 records
  | 'ASTM_NO_HEADER'
  | 'ASTM_BAD_HEADER'
  | 'ASTM_UNKNOWN_RECORD'
  | 'ASTM_NO_TERMINATOR'
  | 'ASTM_NOT_ASTM'
  // bare records (no E1381 framing)
  | 'ASTM_ENDED_WITHOUT_L'
  | 'ASTM_FRAMING_MISMATCH'
  | 'ASTM_QUERY_NOT_ANSWERED'
  // MLLP / HL7
  | 'MLLP_MESSAGE_TOO_LARGE'
  | 'MLLP_UNEXPECTED_BYTES'
  | 'MLLP_INCOMPLETE_BLOCK'
  | 'MLLP_BAD_END_BLOCK'
  | 'HL7_NO_MSH'
  | 'HL7_BAD_MSH'
  | 'HL7_BAD_ENCODING'
  | 'HL7_BAD_SEGMENT'
  | 'HL7_UNSUPPORTED_CHARSET'
  | 'HL7_UNSUPPORTED_MESSAGE'
  | 'HL7_ACK_TIMEOUT'
  | 'HL7_ACK_REJECTED'
  | 'HL7_UNMATCHED_ACK'
  | 'HL7_NOT_HL7';

export interface ProtocolError {
  code: ProtocolErrorCode;
  /** Plain words, e.g. "frame 3: checksum expected 3A, got 3B". */
  message: string;
}

export function protocolError(code: ProtocolErrorCode, message: string): ProtocolError {
  return { code, message };
}

/** "ASTM_BAD_CHECKSUM: frame 3: checksum expected 3A, got 3B" */
export function formatError(error: ProtocolError): string {
  return `${error.code}: ${error.message}`;
}
