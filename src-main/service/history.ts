/** The history screens: message lists and details, and the event log. */
import type { InstrumentConfig } from '../../src-shared/config';
import type {
  MessageQuery,
  ParsedSegment,
  ResultSource,
  ResultView,
} from '../../src-shared/contract';
import type { Order } from '../../src-shared/orders';
import type { OutboxState } from '../../src-shared/outbox';
import { toMessageSummary } from '../../src-shared/status';
import { mapResult } from '../profiles/mapping';
import { explainStoredText, profileOf } from '../profiles/read-message';
import type { HistoryReader } from '../store/store';
import type { MessageDetail, MessageFilter } from '../store/types';
import { frameMllp } from '../protocols/hl7/mllp';
import { exchangeAt, findExchange, type Exchange } from './exchange';
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
  /** Per message, where its delivery to the LIS stands. */
  forwardingStates: (messageIds: number[]) => Map<number, OutboxState> = () => new Map(),
): CommandHandlers<HistoryCommand> {
  return {
    queryMessages: (query) => {
      const page = store.queryMessages(toMessageFilter(query));
      const states = forwardingStates(page.items.map((item) => item.id));
      return {
        items: page.items.map((item) => ({
          ...toMessageSummary(item),
          forwarding: states.get(item.id) ?? null,
        })),
        nextCursor: page.nextCursor,
      };
    },
    getMessage: ({ id }) => {
      const message = store.getMessage(id);
      if (!message) {
        throw new CommandFailure(
          'NOT_FOUND',
          `message ${id} does not exist (it may have been purged)`,
        );
      }
      const exchange = exchangeOf(store, message);
      const parsed =
        message.protocol === 'astm'
          ? parseAstmForView(message.text)
          : parseHl7ForView(message.text);
      const wire = exchange?.sent ?? storedWireBytes(message);
      return {
        ...toMessageSummary(message),
        text: message.text,
        raw: wire.toString('base64'),
        rawFrom: exchange ? ('wire' as const) : ('stored' as const),
        rawCharset: charsetOf(message, wire),
        exchange: exchange?.bounds ?? null,
        profile: message.profile,
        results: resultViews(message, settingsOf(message.instrumentId), parsed),
        errors: message.errors.map((e) => ({ code: e.code, message: e.message })),
        parsed,
        trace: (exchange?.trace ?? []).map((t) => ({
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
 * The message's exchange from the trace of its instrument: the rows of the minutes before it was
 * stored and the seconds after (its EOT or acknowledgement).
 */
function exchangeOf(store: HistoryReader, message: MessageDetail): Exchange | null {
  if (message.raw.length === 0) return null;
  const stored = message.exchange;
  if (stored) {
    // Stored with where its bytes lie: only its connection's rows, placed by their offsets; the
    // seconds around it first (a busy line fills a page fast), the minutes before if it was slow.
    for (const before of [10_000, 5 * MINUTE]) {
      const rows = store.getTrace({
        instrumentId: message.instrumentId,
        connectionId: stored.connectionId,
        from: message.receivedAt - before,
        to: message.receivedAt + 10_000,
        limit: 10_000,
      });
      const found = exchangeAt(message, stored, rows.items);
      if (found) return found;
    }
    return null;
  }
  const trace = store.getTrace({
    instrumentId: message.instrumentId,
    from: message.receivedAt - 5 * MINUTE,
    to: message.receivedAt + 10_000,
    limit: 10_000,
  });
  return findExchange(message, trace.items);
}

/**
 * The bytes as stored when the trace no longer has them: an HL7 payload in its MLLP block (the
 * framing it was read from), ASTM frames as they were accepted.
 */
function storedWireBytes(message: MessageDetail): Buffer {
  const raw = Buffer.from(message.raw);
  if (message.protocol === 'hl7' && raw.length > 0 && raw[0] !== 0x0b) return frameMllp(raw);
  return raw;
}

// eslint-disable-next-line no-control-regex -- ETX/ETB C1 C2 CR LF STX n: where frames meet
const FRAME_JOINT = /[\x03\x17][0-9A-Fa-f]{2}\r?\n?|\x02[0-7]/gu;

/**
 * The character set the message's text was read with (HL7 MSH-18, else the instrument's
 * setting): UTF-8 when reading the wire bytes as UTF-8 gives the stored text, else Latin-1.
 */
export function charsetOf(message: Pick<MessageDetail, 'text'>, wire: Buffer): 'utf8' | 'latin1' {
  const lines = message.text.split('\r').filter((line) => /[^\p{ASCII}]/u.test(line));
  if (lines.length === 0) return 'latin1';
  const decoded = wire.toString('utf8');
  if (decoded.includes('\ufffd')) return 'latin1';
  // ASTM frames split the text: drop each frame's checksum, line end, start and number.
  const text = decoded.replace(FRAME_JOINT, '');
  return lines.every((line) => text.includes(line)) ? 'utf8' : 'latin1';
}

/**
 * The stored results with where each value was read (the message read again with the profile it
 * was stored with) and what the LIS receives for it (the instrument's mapping as it is now).
 */
export function resultViews(
  message: Pick<MessageDetail, 'protocol' | 'text' | 'profile' | 'results'>,
  settings: Pick<InstrumentConfig, 'testCodes'> | null,
  parsed: readonly ParsedSegment[],
): ResultView[] {
  const explained = explainStoredText(message.protocol, message.text, profileOf(message.profile));
  // A stored message always reads the same; should it not, no source beats a wrong one.
  const aligned = explained.results.length === message.results.length;
  return message.results.map((result, i) => {
    const mapped = mapResult(result, settings ?? { testCodes: {} });
    const sources = aligned ? explained.sources[i]! : [];
    return {
      ...result,
      referenceRange: referenceRange(message.protocol, sources, parsed),
      sources,
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

/**
 * The reference range the analyzer sent beside a value (ASTM R-6, HL7 OBX-7), read from the
 * record or segment the value came from; null when it sent none.
 */
function referenceRange(
  protocol: 'astm' | 'hl7',
  sources: readonly ResultSource[],
  parsed: readonly ParsedSegment[],
): string | null {
  const from = sources.find((source) => source.field === 'value');
  if (!from) return null;
  const segment = parsed[from.segment];
  const position = protocol === 'astm' ? `${segment?.name}-6` : 'OBX-7';
  const field = segment?.fields.find((f) => f.position === position);
  const value = field?.value.trim() ?? '';
  if (value === '') return null;
  // ASTM writes a range as "low^high" or in words ("3.9 to 6.1").
  const parts = protocol === 'astm' ? value.split('^') : [value];
  return parts.length === 2 && parts[0] && parts[1] ? `${parts[0]}–${parts[1]}` : value;
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
