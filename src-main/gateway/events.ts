import type { InstrumentStatus } from '../../src-shared/status';

export type LogLevel = 'info' | 'warn' | 'error';

/** One line of the event log, in plain words; also stored in the events table. */
export interface LogEntry {
  at: number;
  instrumentId: string | null;
  level: LogLevel;
  kind: string;
  code: string | null;
  message: string;
}

export interface StoredMessageEvent {
  id: number;
  instrumentId: string;
  protocol: 'astm' | 'hl7';
  direction: 'in' | 'out';
  receivedAt: number;
  controlId: string | null;
  sampleIds: string[];
  patientIds: string[];
  status: string;
  ack: string | null;
  resultCount: number;
  errorCount: number;
  /** A resend of a message already stored: acknowledged again, not stored twice. */
  duplicate: boolean;
}

export type GatewayEvent =
  | { type: 'status'; status: InstrumentStatus }
  | { type: 'messageStored'; message: StoredMessageEvent }
  | { type: 'log'; entry: LogEntry }
  | { type: 'instrumentRemoved'; id: string };

export type GatewayListener = (event: GatewayEvent) => void;
