import type { LogEntry, StoredMessageEvent } from '../../src-shared/contract';
import type { EventLevel, InstrumentStatus } from '../../src-shared/status';

export type { LogEntry, StoredMessageEvent };
export type LogLevel = EventLevel;

export type GatewayEvent =
  | { type: 'status'; status: InstrumentStatus }
  | { type: 'messageStored'; message: StoredMessageEvent }
  | { type: 'log'; entry: LogEntry }
  | { type: 'instrumentRemoved'; id: string };

export type GatewayListener = (event: GatewayEvent) => void;
