/**
 * What the gateway asks of the order side (src-main/orders), which sits beside it: the gateway
 * hands over host queries and stored results; it never reads orders itself.
 */
import type { InstrumentConfig } from '../../src-shared/config';
import type { Result } from '../../src-shared/results';
import type { HostQuery } from '../profiles/read-message';

export interface HostQueryAnswer {
  /** The records of the answer, without CR: H, P/O groups, L. */
  records: string[];
  /** Orders the answer carries, to be marked sent once it is stored. */
  orderIds: number[];
  sampleIds: string[];
  patientIds: string[];
}

/** One message's worth of orders pushed to an instrument. */
export interface OrderDownload extends HostQueryAnswer {
  /** Cancellations the message carries (O-12 `C`). */
  cancelledIds: number[];
}

/** One HL7 order message for an analyzer (OML^O33 or ORM^O01), for one sample. */
export interface Hl7OrderOut {
  /** Segments ended by CR. */
  text: string;
  /** MSH-10, which the analyzer's ORL^O34 or ACK names in MSA-2. */
  controlId: string;
  /** New orders it carries (ORC-1 NW), and cancellations (ORC-1 CA). */
  orderIds: number[];
  cancelledIds: number[];
  sampleIds: string[];
  patientIds: string[];
}

export interface InstrumentOrders {
  /**
   * The answer to the Q records of one message (their samples read where the instrument's
   * profile says), or null when nothing is to be sent (an abort request). Sample unknown:
   * `L|1|I`; query unreadable: `L|1|Q`.
   */
  answerHostQuery(config: InstrumentConfig, queries: readonly HostQuery[]): HostQueryAnswer | null;
  /**
   * The instrument took the answer or download stored as message `messageId`: its orders are
   * sent, and the cancellations it carried told.
   */
  sent(
    config: InstrumentConfig,
    orderIds: readonly number[],
    messageId: number | null,
    cancelledIds?: readonly number[],
  ): void;
  /** Results of a stored incoming message, for tracking. */
  resultsStored(config: InstrumentConfig, messageId: number, results: readonly Result[]): void;
  /**
   * Orders waiting to be pushed to this instrument, and cancellations of orders it was sent
   * (O-12 `C`), as one message; null when none.
   */
  nextDownload(config: InstrumentConfig): OrderDownload | null;
  /** HL7 analyzers: the open orders for the samples a QBP^Q11 names, one message per sample. */
  hl7OrdersFor(
    config: InstrumentConfig,
    sampleIds: readonly string[],
    nextControlId: () => string,
  ): Hl7OrderOut[];
  /** HL7 analyzers set to push: cancellations and orders waiting, one message per sample. */
  nextHl7Download(config: InstrumentConfig, nextControlId: () => string): Hl7OrderOut[];
}
