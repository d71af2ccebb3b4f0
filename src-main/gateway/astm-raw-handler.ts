import type { ConnectionHandler, LinkCloseReason, LinkConnection } from '../links/types';
import {
  RAW_ENDING_CODES,
  RawRecordReader,
  type RawInboundMessage,
  type RawRecordEvent,
} from '../protocols/astm/raw-records';
import { protocolError } from '../protocols/errors';
import { astmMessageRow } from './astm-rows';
import type { InstrumentContext } from './context';
import type { NewMessage } from '../store/types';

const STORE_ATTEMPTS = 5;
const STORE_RETRY_MS = 2_000;

/**
 * One connection carrying bare E1394 records (`astm.framing: "raw"`). Nothing is ever sent back:
 * the analyzer gets no acknowledgement to wait for, so each message is stored as soon as it ends
 * (its L record, the next H, the idle gap, or the end of the connection). Host queries cannot be
 * answered on such a line; they are stored and logged as unanswered.
 */
export class AstmRawConnectionHandler implements ConnectionHandler {
  private readonly reader: RawRecordReader;
  private inFlight = 0;
  private endingNoted = false;
  private queryNoted = false;

  constructor(
    private readonly connection: LinkConnection,
    private readonly context: InstrumentContext,
  ) {
    const { astm } = context.config;
    this.reader = new RawRecordReader({
      clock: context.clock,
      idleGapMs: astm.idleGapMs,
      maxMessageText: context.config.maxMessageBytes,
      onEvent: (event) => this.onEvent(event),
    });
  }

  get buffered(): number {
    return this.reader.buffered;
  }

  get busy(): boolean {
    return this.inFlight > 0 || this.reader.busy;
  }

  onData(chunk: Buffer): void {
    this.reader.receive(chunk);
  }

  onClose(_reason: LinkCloseReason): void {
    this.reader.close();
  }

  private onEvent(event: RawRecordEvent): void {
    if (event.type === 'notice') {
      this.context.protocolError(event.error, this.connection.id);
      return;
    }
    this.store(event.message);
  }

  private store(message: RawInboundMessage): void {
    const status = message.terminated === 'size' ? 'incomplete' : 'stored';
    const { row, queries } = astmMessageRow(this.context, message, {
      status,
      ack: null,
      endingCodes: RAW_ENDING_CODES,
    });
    if (message.terminated === 'size') {
      this.context.protocolError(message.errors[0]!, this.connection.id);
    } else if (message.terminated !== 'L' && !this.endingNoted) {
      // Once per connection: a device that never sends L would otherwise fill the log.
      this.endingNoted = true;
      this.context.note('info', 'ASTM_ENDED_WITHOUT_L', message.errors[0]!.message);
    }
    if (queries > 0 && !this.queryNoted) {
      this.queryNoted = true;
      const error = protocolError(
        'ASTM_QUERY_NOT_ANSWERED',
        'the analyzer sent a host query (Q record), which cannot be answered on a link set to bare records (nothing is sent back); the query is stored. Set the ASTM framing to "E1381" if the analyzer expects answers',
      );
      this.context.note('warn', error.code, error.message);
    }
    this.persist(row, 1);
  }

  /**
   * Nothing was acknowledged, so the analyzer will not send the message again: a failed write is
   * retried a few times on the clock before the message is reported lost.
   */
  private persist(row: NewMessage, attempt: number): void {
    this.inFlight++;
    this.context.persist(row).then(
      (outcome) => {
        this.inFlight--;
        this.context.stored(row, outcome);
      },
      (error: unknown) => {
        this.inFlight--;
        const retry = attempt < STORE_ATTEMPTS;
        this.context.storageFailed(
          error,
          retry
            ? `a message of bare records is kept in memory and written again in ${STORE_RETRY_MS / 1_000} s (attempt ${attempt} of ${STORE_ATTEMPTS})`
            : `a message of bare records was not stored after ${STORE_ATTEMPTS} attempts; its bytes are in the trace if the trace could be written`,
          false,
        );
        if (!retry) return;
        this.inFlight++;
        this.context.clock.schedule(STORE_RETRY_MS, () => {
          this.inFlight--;
          this.persist(row, attempt + 1);
        });
      },
    );
  }
}
