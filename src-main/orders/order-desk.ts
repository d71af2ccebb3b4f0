/**
 * The order side of the gateway: answers host queries with the orders the store holds, builds
 * worklist downloads, moves orders along as results arrive, expires stale ones. The gateway calls
 * it through InstrumentOrders; it never touches a link or a session itself.
 */
import type { InstrumentConfig } from '../../src-shared/config';
import type { Order } from '../../src-shared/orders';
import type { Result } from '../../src-shared/results';
import type {
  HostQueryAnswer,
  Hl7OrderOut,
  InstrumentOrders,
  OrderDownload,
} from '../gateway/orders-port';
import type { HostQuery } from '../profiles/read-message';
import type { Clock } from '../protocols/clock';
import {
  encodeAstmMessage,
  type AstmOutboundHeader,
  type AstmOutboundPatient,
} from '../protocols/astm/message';
import { formatAstmTimestamp } from '../protocols/astm/records-time';
import type { OrderStore } from '../store/store';
import { encodeHl7OrderMessage } from './hl7-order-message';
import { instrumentCodesFor, lisCodeFor, mappedLisCodes } from './test-codes';

const DAY_MS = 24 * 3600_000;
/** Orders expired per transaction, so the job never holds the write lock for long. */
const EXPIRY_BATCH = 500;
/** A query for `ALL` is answered with at most this many orders, oldest first. */
const ALL_LIMIT = 1_000;

export interface OrderDeskDeps {
  store: OrderStore;
  clock: Clock;
  /** Every instrument's settings, for test codes that another instrument's map claims. */
  instruments: () => readonly InstrumentConfig[];
  log: (
    instrumentId: string | null,
    level: 'info' | 'warn' | 'error',
    code: string | null,
    message: string,
  ) => void;
  /** Orders expire this many days after they arrived (default 7). */
  expiryDays?: number;
}

export class OrderDesk implements InstrumentOrders {
  constructor(private readonly deps: OrderDeskDeps) {}

  answerHostQuery(config: InstrumentConfig, queries: readonly HostQuery[]): HostQueryAnswer | null {
    const asked = queries.filter((q) => (q.status ?? '').toUpperCase() !== 'A');
    if (asked.length === 0) return null;
    const unreadable = asked.filter((q) => !q.all && q.range === null && q.sampleIds.length === 0);
    for (const q of unreadable) {
      this.deps.log(
        config.id,
        'warn',
        'ASTM_QUERY_UNREADABLE',
        `host query ${q.sequence ?? ''} names no sample ID in Q-3 ("${q.asked}"); answered "error in request" (L|1|Q)`,
      );
    }
    const orders: Order[] = [];
    for (const query of asked) {
      if (query.all) orders.push(...this.deps.store.pendingOrdersFor(config.id, ALL_LIMIT));
      else if (query.range) {
        const { from, to } = query.range;
        orders.push(...this.deps.store.openOrdersBetween(from, to, config.id));
      } else for (const sample of query.sampleIds) orders.push(...this.openFor(sample, config));
    }
    const patients = this.patientsFor(config, dedupe(orders), 'query');
    if (patients.records.length > 0) {
      return this.answer(config, patients, 'F');
    }
    const termination = unreadable.length === asked.length ? 'Q' : 'I';
    return {
      records: encodeAstmMessage({ header: this.header(config), termination }),
      orderIds: [],
      sampleIds: asked.flatMap((q) => (q.range ? [q.range.from, q.range.to] : q.sampleIds)),
      patientIds: [],
    };
  }

  nextDownload(config: InstrumentConfig): OrderDownload | null {
    if (config.orders.download !== 'push') return null;
    // Cancellations first: a sample cancelled and ordered again ends with its new order.
    const cancels = this.patientsFor(config, this.deps.store.cancelsToPush(config.id), 'cancel');
    const pending = this.patientsFor(config, this.deps.store.ordersToPush(config.id), 'push');
    const patients = {
      records: [...cancels.records, ...pending.records],
      orderIds: pending.orderIds,
      sampleIds: [...new Set([...cancels.sampleIds, ...pending.sampleIds])],
    };
    if (patients.records.length === 0) return null;
    return { ...this.answer(config, patients, 'F'), cancelledIds: cancels.orderIds };
  }

  hl7OrdersFor(
    config: InstrumentConfig,
    sampleIds: readonly string[],
    nextControlId: () => string,
  ): Hl7OrderOut[] {
    const orders = dedupe(sampleIds.flatMap((sample) => this.openFor(sample, config)));
    return this.hl7Messages(config, orders, 'query', nextControlId);
  }

  nextHl7Download(config: InstrumentConfig, nextControlId: () => string): Hl7OrderOut[] {
    if (config.orders.download !== 'push') return [];
    return [
      ...this.hl7Messages(
        config,
        this.deps.store.cancelsToPush(config.id),
        'cancel',
        nextControlId,
      ),
      ...this.hl7Messages(config, this.deps.store.ordersToPush(config.id), 'push', nextControlId),
    ];
  }

  sent(
    config: InstrumentConfig,
    orderIds: readonly number[],
    messageId: number | null,
    cancelledIds: readonly number[] = [],
  ): void {
    if (orderIds.length > 0) this.deps.store.markOrdersSent(orderIds, config.id, messageId);
    if (cancelledIds.length > 0) {
      this.deps.store.markCancelsSent(cancelledIds, config.id, messageId);
    }
  }

  resultsStored(config: InstrumentConfig, messageId: number, results: readonly Result[]): void {
    const tracked = results.flatMap((r) =>
      r.sampleId && r.testCode
        ? [{ sampleId: r.sampleId, lisCode: lisCodeFor(r.testCode, config.testCodes) }]
        : [],
    );
    if (tracked.length === 0) return;
    const outcome = this.deps.store.trackResults(config.id, messageId, tracked);
    for (const sample of outcome.unsolicited) {
      this.deps.log(
        config.id,
        'info',
        'UNSOLICITED_RESULT',
        `results for sample ${sample} arrived that no open order asked for (unsolicited)`,
      );
    }
  }

  /** Cancels orders older than the expiry period, a batch at a time. */
  expire(): number {
    const before = this.deps.clock.now() - (this.deps.expiryDays ?? 7) * DAY_MS;
    let total = 0;
    for (;;) {
      const n = this.deps.store.expireOrders(before, EXPIRY_BATCH);
      total += n;
      if (n < EXPIRY_BATCH) break;
    }
    if (total > 0) {
      this.deps.log(null, 'info', 'ORDERS_EXPIRED', `${total} orders expired without results`);
    }
    return total;
  }

  private openFor(sampleId: string, config: InstrumentConfig): Order[] {
    return this.deps.store.openOrdersFor(sampleId, config.id);
  }

  /** Orders by sample, with the tests in the instrument's codes; those it does not do left out. */
  private samplesFor(
    config: InstrumentConfig,
    orders: readonly Order[],
    why: 'query' | 'push' | 'cancel',
  ): SampleOrders[] {
    const others = mappedLisCodes(this.deps.instruments().filter((i) => i.id !== config.id));
    const bySample = new Map<string, Order[]>();
    for (const order of orders) {
      const list = bySample.get(order.sampleId) ?? [];
      list.push(order);
      bySample.set(order.sampleId, list);
    }
    const out: SampleOrders[] = [];
    for (const [sampleId, group] of bySample) {
      const lis = [...new Set(group.flatMap((o) => o.tests))];
      const { codes, notDone } = instrumentCodesFor(lis, config.testCodes, others);
      if (notDone.length > 0 && why !== 'cancel') {
        this.deps.log(
          config.id,
          'info',
          null,
          `sample ${sampleId}: ${notDone.join(', ')} not sent, another instrument does ${notDone.length === 1 ? 'it' : 'them'}`,
        );
      }
      if (codes.length > 0) out.push({ sampleId, orders: group, codes });
    }
    return out;
  }

  /** One P with one O per sample. */
  private patientsFor(
    config: InstrumentConfig,
    orders: readonly Order[],
    why: 'query' | 'push' | 'cancel',
  ): { records: AstmOutboundPatient[]; orderIds: number[]; sampleIds: string[] } {
    const records: AstmOutboundPatient[] = [];
    const orderIds: number[] = [];
    const sampleIds: string[] = [];
    for (const { sampleId, orders: group, codes } of this.samplesFor(config, orders, why)) {
      const first = group[0]!;
      records.push({
        patientId: first.patientId ?? undefined,
        ...(first.patientName ? { name: first.patientName } : {}),
        orders: [
          {
            specimenId: sampleId,
            tests: codes,
            priority: astmPriority(group.map((o) => o.priority)),
            actionCode: why === 'query' ? 'A' : why === 'cancel' ? 'C' : 'N',
            reportType: why === 'query' ? 'Q' : 'O',
          },
        ],
      });
      orderIds.push(...group.map((o) => o.id));
      sampleIds.push(sampleId);
    }
    return { records, orderIds, sampleIds };
  }

  /** One OML^O33 (or ORM^O01, as the instrument is set) per sample. */
  private hl7Messages(
    config: InstrumentConfig,
    orders: readonly Order[],
    why: 'query' | 'push' | 'cancel',
    nextControlId: () => string,
  ): Hl7OrderOut[] {
    const now = this.deps.clock.now();
    return this.samplesFor(config, orders, why).map(({ sampleId, orders: group, codes }) => {
      const first = group[0]!;
      const controlId = nextControlId();
      const text = encodeHl7OrderMessage(
        {
          type: config.orders.hl7Message,
          receiver: config.id,
          controlId,
          now,
          utcOffsetMinutes: -new Date(now).getTimezoneOffset(),
        },
        {
          sampleId,
          patientId: first.patientId,
          patientName: first.patientName,
          tests: codes,
          priority: astmPriority(group.map((o) => o.priority)),
          control: why === 'cancel' ? 'CA' : 'NW',
          placer: String(first.id),
        },
      );
      const ids = group.map((o) => o.id);
      return {
        text,
        controlId,
        orderIds: why === 'cancel' ? [] : ids,
        cancelledIds: why === 'cancel' ? ids : [],
        sampleIds: [sampleId],
        patientIds: first.patientId ? [first.patientId] : [],
      };
    });
  }

  private answer(
    config: InstrumentConfig,
    patients: { records: AstmOutboundPatient[]; orderIds: number[]; sampleIds: string[] },
    termination: string,
  ): HostQueryAnswer {
    return {
      records: encodeAstmMessage({
        header: this.header(config),
        patients: patients.records,
        termination,
      }),
      orderIds: patients.orderIds,
      sampleIds: patients.sampleIds,
      patientIds: patients.records.flatMap((p) =>
        typeof p.patientId === 'string' ? [p.patientId] : [],
      ),
    };
  }

  private header(config: InstrumentConfig): AstmOutboundHeader {
    const now = this.deps.clock.now();
    return {
      sender: 'LABGATEWAY',
      receiver: config.id,
      processingId: 'P',
      version: 'LIS2-A2',
      timestamp: formatAstmTimestamp(now, -new Date(now).getTimezoneOffset()),
    };
  }
}

interface SampleOrders {
  sampleId: string;
  orders: Order[];
  /** In the instrument's codes. */
  codes: string[];
}

function dedupe(orders: readonly Order[]): Order[] {
  const seen = new Set<number>();
  return orders.filter((o) => (seen.has(o.id) ? false : (seen.add(o.id), true)));
}

/** The most urgent of the orders' priorities as ASTM O-6: S stat, A ASAP, R routine. */
function astmPriority(priorities: readonly (string | null)[]): string {
  const letters = priorities.map((p) => (p ?? '').trim().toUpperCase().charAt(0));
  if (letters.includes('S')) return 'S';
  if (letters.includes('A')) return 'A';
  return 'R';
}
