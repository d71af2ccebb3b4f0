/** The history screens: message lists and details, and the event log. */
import type { InstrumentConfig } from '../../src-shared/config';
import type { MessageQuery, ResultView } from '../../src-shared/contract';
import type { Order } from '../../src-shared/orders';
import { toMessageSummary } from '../../src-shared/status';
import { mapResult } from '../profiles/mapping';
import { explainStoredText, profileOf } from '../profiles/read-message';
import type { HistoryReader } from '../store/store';
import type { MessageDetail, MessageFilter } from '../store/types';
import { CommandFailure } from './failure';
import type { CommandHandlers } from './handlers';
import { parseAstmForView, parseHl7ForView } from './parsed';

const MINUTE = 60_000;

export type HistoryCommand = 'queryMessages' | 'getMessage' | 'listEvents';

/** The settings of an instrument still set up (its test-code mapping is applied when shown). */
export type InstrumentSettings = (id: string) => Pick<InstrumentConfig, 'testCodes'> | null;

export function historyCommands(
  store: HistoryReader,
  settingsOf: InstrumentSettings,
  /** The orders a stored message's results moved, for its detail. */
  ordersResultedBy: (messageId: number) => Order[] = () => [],
): CommandHandlers<HistoryCommand> {
  return {
    queryMessages: (query) => {
      const page = store.queryMessages(toMessageFilter(query));
      return { items: page.items.map(toMessageSummary), nextCursor: page.nextCursor };
    },
    getMessage: ({ id }) => {
      const message = store.getMessage(id);
      if (!message) {
        throw new CommandFailure(
          'NOT_FOUND',
          `message ${id} does not exist (it may have been purged)`,
        );
      }
      const previous = store.queryMessages({
        instrumentId: message.instrumentId,
        to: message.receivedAt,
        limit: 1,
      }).items[0];
      const from = Math.max(
        message.receivedAt - 5 * MINUTE,
        previous ? previous.receivedAt + 1 : 0,
      );
      const trace = store.getTrace({
        instrumentId: message.instrumentId,
        from,
        to: message.receivedAt + 2_000,
        limit: 500,
      });
      return {
        ...toMessageSummary(message),
        text: message.text,
        raw: Buffer.from(message.raw).toString('base64'),
        profile: message.profile,
        results: resultViews(message, settingsOf(message.instrumentId)),
        errors: message.errors.map((e) => ({ code: e.code, message: e.message })),
        parsed:
          message.protocol === 'astm'
            ? parseAstmForView(message.text)
            : parseHl7ForView(message.text),
        trace: trace.items.map((t) => ({
          at: t.at,
          direction: t.direction,
          connectionId: t.connectionId,
          bytes: Buffer.from(t.bytes).toString('base64'),
        })),
        orders: ordersResultedBy(id),
      };
    },
    listEvents: ({ cursor, ...query }) => {
      const page = store.listEvents({ ...withoutUndefined(query), ...(cursor ? { cursor } : {}) });
      return {
        items: page.items.map(({ data: _data, ...entry }) => entry),
        nextCursor: page.nextCursor,
      };
    },
  };
}

/**
 * The stored results with where each value was read (the message read again with the profile it
 * was stored with) and what the LIS receives for it (the instrument's mapping as it is now).
 */
function resultViews(
  message: MessageDetail,
  settings: Pick<InstrumentConfig, 'testCodes'> | null,
): ResultView[] {
  const explained = explainStoredText(message.protocol, message.text, profileOf(message.profile));
  // A stored message always reads the same; should it not, no source beats a wrong one.
  const aligned = explained.results.length === message.results.length;
  return message.results.map((result, i) => {
    const mapped = mapResult(result, settings ?? { testCodes: {} });
    return {
      ...result,
      sources: aligned ? explained.sources[i]! : [],
      lis: {
        testCode: mapped.testCode,
        name: mapped.testName,
        units: mapped.units,
        mapped: mapped.mapped,
        excluded: mapped.excluded,
      },
    };
  });
}

/** The contract's message query as the store's filter (blank search and empty cursor dropped). */
export function toMessageFilter(
  query: Omit<MessageQuery, 'cursor' | 'limit'> & {
    cursor?: string | null | undefined;
    limit?: number | undefined;
  },
): MessageFilter {
  const { search, cursor, ...rest } = query;
  const filter: MessageFilter = withoutUndefined(rest);
  if (search?.trim()) filter.search = search.trim();
  if (cursor) filter.cursor = cursor;
  return filter;
}

/** exactOptionalPropertyTypes: absent keys rather than keys holding undefined. */
function withoutUndefined<T extends object>(
  value: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
