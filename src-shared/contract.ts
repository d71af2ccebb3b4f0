/**
 * The contract between the gateway (main process or headless server) and the UI: one map of
 * commands (request → response) and one map of events. The Electron preload, the ipcMain
 * handlers, the WebSocket bridge and the renderer's client are all typed from these maps, and
 * every request is validated with these schemas on arrival.
 */
import { z } from 'zod';
import { instrumentConfigSchema, serialSettingsSchema } from './config';
import {
  destinationStatusSchema,
  messageForwardingSchema,
  outboxEntrySchema,
  outboxStateSchema,
} from './outbox';
import {
  orderHistoryEntrySchema,
  orderSchema,
  orderSourceStatusSchema,
  orderStateSchema,
} from './orders';
import { RESULT_FIELDS } from './result-fields';
import { serialPortInfoSchema } from './serial';
import { protocolSchema, resultSchema, storedResultSchema } from './results';
import {
  codedErrorSchema,
  directionSchema,
  eventLevelSchema,
  instrumentStatusSchema,
  messageSummarySchema,
} from './status';

const id = z.string().min(1).max(64);
const cursor = z.string().max(512).nullable().optional();
const limit = (max: number) => z.number().int().min(1).max(max).optional();

export const messageQuerySchema = z.strictObject({
  instrumentId: id.optional(),
  protocol: protocolSchema.optional(),
  direction: directionSchema.optional(),
  status: z.string().max(32).optional(),
  /** Inclusive, ms since the epoch. */
  from: z.number().optional(),
  /** Exclusive, ms since the epoch. */
  to: z.number().optional(),
  /** Sample ID, patient ID, test code, control ID or words of the text. */
  search: z.string().max(200).optional(),
  /** true: only messages with QC or calibration results; false: only those without. */
  qc: z.boolean().optional(),
  /** Only messages with a delivery to the LIS in this state. */
  forwarding: z.enum(['pending', 'delivered', 'failed', 'held']).optional(),
  cursor,
  limit: limit(1000),
  order: z.enum(['desc', 'asc']).optional(),
});
export type MessageQuery = z.infer<typeof messageQuerySchema>;

export const messagePageSchema = z.object({
  items: z.array(messageSummarySchema),
  nextCursor: z.string().nullable(),
});

/** One field of a parsed record or segment, with its position such as `R-4` or `OBX-5`. */
export const parsedFieldSchema = z.object({
  position: z.string(),
  value: z.string(),
  /** Components when the field has them (repetitions joined), for the tree view. */
  components: z.array(z.string()).optional(),
});

export const parsedSegmentSchema = z.object({
  /** `R` or `OBX`. */
  name: z.string(),
  /** The record or segment as text. */
  text: z.string(),
  fields: z.array(parsedFieldSchema),
});
export type ParsedSegment = z.infer<typeof parsedSegmentSchema>;

export const traceEntrySchema = z.object({
  at: z.number(),
  direction: directionSchema,
  connectionId: z.string(),
  /** The bytes, base64. */
  bytes: z.string(),
});
export type TraceEntryView = z.infer<typeof traceEntrySchema>;

/** Where a normalized value was read: `segment` indexes `parsed`, `position` is like `R-4.2`. */
export const resultSourceSchema = z.object({
  field: z.enum(RESULT_FIELDS),
  segment: z.number().int(),
  position: z.string(),
});
export type ResultSource = z.infer<typeof resultSourceSchema>;

/** What the LIS receives for a result, after the instrument's test-code mapping. */
export const lisResultSchema = z.object({
  testCode: z.string().nullable(),
  /** The test's name from the mapping table. */
  name: z.string().nullable(),
  units: z.string().nullable(),
  /** The mapping table names the analyzer's code. */
  mapped: z.boolean(),
  /** The mapping table keeps this code from being forwarded. */
  excluded: z.boolean(),
});

/** A stored result as the detail view shows it: what the analyzer sent, where, and what the LIS gets. */
export const resultViewSchema = storedResultSchema.extend({
  /** The reference range sent beside the value (ASTM R-6, HL7 OBX-7), when there was one. */
  referenceRange: z.string().nullable().optional(),
  sources: z.array(resultSourceSchema),
  lis: lisResultSchema,
});
export type ResultView = z.infer<typeof resultViewSchema>;

export const messageDetailSchema = messageSummarySchema.extend({
  text: z.string(),
  /**
   * The wire bytes, base64: the exact bytes the sender put on the wire for this message, framing
   * included (ASTM ENQ, frames with their line ends, EOT; HL7 the MLLP block).
   */
  raw: z.string(),
  /** `wire`: from the connection's trace, exactly; `stored`: the trace is gone, the bytes as stored. */
  rawFrom: z.enum(['wire', 'stored']).optional(),
  /** The character set the text was read with, to show `raw` in. */
  rawCharset: z.enum(['utf8', 'latin1']).optional(),
  /** Where the exchange lies in the trace: its connection, first and last row and byte. */
  exchange: z
    .object({
      connectionId: z.string(),
      first: z.object({ traceId: z.number(), offset: z.number() }),
      last: z.object({ traceId: z.number(), offset: z.number() }),
    })
    .nullable()
    .optional(),
  /** The profile the results were read with; null for the generic reading. */
  profile: z.string().nullable(),
  results: z.array(resultViewSchema),
  errors: z.array(codedErrorSchema),
  parsed: z.array(parsedSegmentSchema),
  /** This message's exchange, chunk by chunk: ENQ to EOT, or the MLLP block and its ACK. */
  trace: z.array(traceEntrySchema),
  /** Orders this message's results moved (partially resulted or resulted), as they are now. */
  orders: z.array(orderSchema).optional(),
});
export type MessageDetail = z.infer<typeof messageDetailSchema>;

export const logEntrySchema = z.object({
  id: z.number().optional(),
  at: z.number(),
  instrumentId: z.string().nullable(),
  level: eventLevelSchema,
  kind: z.string(),
  code: z.string().nullable(),
  message: z.string(),
});
export type LogEntryView = z.infer<typeof logEntrySchema>;
/** A line of the event log as the gateway emits it, before the store gives it an id. */
export type LogEntry = Omit<LogEntryView, 'id'>;

export const eventQuerySchema = z.strictObject({
  instrumentId: id.optional(),
  level: eventLevelSchema.optional(),
  kind: z.string().max(32).optional(),
  from: z.number().optional(),
  to: z.number().optional(),
  /** Words of the message, its code, kind or instrument ID; case of A–Z ignored. */
  search: z.string().max(200).optional(),
  cursor,
  limit: limit(1000),
});
export type EventQuery = z.infer<typeof eventQuerySchema>;

export const instrumentStatsSchema = z.object({
  instrumentId: z.string(),
  /** Messages per minute over the last hour, oldest first (60 values). */
  perMinute: z.array(z.number()),
  lastHourIn: z.number(),
  lastHourOut: z.number(),
});
export const statsSchema = z.object({
  at: z.number(),
  instruments: z.array(instrumentStatsSchema),
});
export type Stats = z.infer<typeof statsSchema>;

export const storedMessageEventSchema = messageSummarySchema
  .pick({
    id: true,
    instrumentId: true,
    protocol: true,
    direction: true,
    receivedAt: true,
    controlId: true,
    sampleIds: true,
    patientIds: true,
    status: true,
    ack: true,
    resultCount: true,
    errorCount: true,
    qc: true,
  })
  /** A resend of a message already stored: acknowledged again, not stored twice. */
  .extend({ duplicate: z.boolean() });
export type StoredMessageEvent = z.infer<typeof storedMessageEventSchema>;

export const exportFormatSchema = z.enum(['csv', 'json', 'raw']);

/** Where a failed command went wrong, per field, for forms. */
export const fieldProblemSchema = z.object({ field: z.string(), message: z.string() });

export const commandErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  fields: z.array(fieldProblemSchema).optional(),
});
export type CommandError = z.infer<typeof commandErrorSchema>;

/** How a profile reads the last message an instrument sent, for the editor's preview. */
export const profilePreviewSchema = z.object({
  /** Null when the instrument has sent nothing yet. */
  message: z
    .object({
      id: z.number().int(),
      receivedAt: z.number(),
      protocol: protocolSchema,
      results: z.array(resultSchema.extend({ sources: z.array(resultSourceSchema) })),
      /** Where the profile did not fit the message, in plain words. */
      notes: z.array(codedErrorSchema),
    })
    .nullable(),
});
export type ProfilePreview = z.infer<typeof profilePreviewSchema>;

const empty = z.strictObject({});
const byId = z.strictObject({ id });
const ok = z.object({ ok: z.literal(true) });

/**
 * Every command: its request schema and its response schema. Adding one here makes the main
 * handler, the preload function and the renderer client required by the type checker.
 */
export const commands = {
  getAppInfo: {
    request: empty,
    response: z.object({
      version: z.string(),
      runtime: z.enum(['electron', 'browser']),
      dbFile: z.string(),
      /** The configuration file the gateway was started with; its instruments are read-only here. */
      configFile: z.string().nullable(),
      demoAvailable: z.boolean(),
      /** The gateway's IANA time zone: every screen shows times in it, and names it. */
      timeZone: z.string().optional(),
    }),
  },
  listInstruments: { request: empty, response: z.array(instrumentStatusSchema) },
  getInstrument: {
    request: byId,
    response: z.object({ config: instrumentConfigSchema, status: instrumentStatusSchema }),
  },
  /** The config is validated in main; problems come back with `fields`. */
  createInstrument: {
    request: z.strictObject({ config: z.unknown() }),
    response: instrumentStatusSchema,
  },
  updateInstrument: {
    request: z.strictObject({ config: z.unknown() }),
    response: instrumentStatusSchema,
  },
  deleteInstrument: { request: byId, response: ok },
  setInstrumentEnabled: {
    request: z.strictObject({ id, enabled: z.boolean() }),
    response: instrumentStatusSchema,
  },
  reconnectInstrument: { request: byId, response: ok },
  disconnectInstrument: { request: byId, response: ok },
  /** Clears the card's "Last error" and "Silent" once someone has looked; logged as who acted. */
  acknowledgeAlarms: { request: byId, response: instrumentStatusSchema },
  /**
   * Client links: try a TCP connection to the analyzer without disturbing the link. Serial
   * links: open the port with its line settings and close it again.
   */
  testConnection: {
    request: z.union([
      z.strictObject({
        host: z.string().min(1).max(255),
        port: z.number().int().min(1).max(65535),
        timeoutMs: z.number().int().min(100).max(30_000).optional(),
      }),
      z.strictObject({
        serial: serialSettingsSchema,
        timeoutMs: z.number().int().min(100).max(30_000).optional(),
      }),
    ]),
    response: z.object({ ok: z.boolean(), message: z.string(), elapsedMs: z.number() }),
  },
  /** The serial ports of the machine the gateway runs on, for the instrument editor. */
  listSerialPorts: {
    request: empty,
    response: z.object({
      ports: z.array(serialPortInfoSchema),
      /** Why the list could not be read, in plain words; null when it could. */
      problem: z.string().nullable(),
    }),
  },
  /** The instrument's last received message read with a profile (null: the generic reading). */
  previewProfile: {
    request: z.strictObject({ instrumentId: id, profile: z.string().max(64).nullable() }),
    response: profilePreviewSchema,
  },
  queryMessages: { request: messageQuerySchema, response: messagePageSchema },
  /**
   * The instruments the history can be filtered by: those set up now and those removed whose
   * messages are still kept (`removed`, named by their ID).
   */
  listHistoryInstruments: {
    request: empty,
    response: z.array(z.object({ id: z.string(), name: z.string(), removed: z.boolean() })),
  },
  getMessage: {
    request: z.strictObject({ id: z.number().int().min(1) }),
    response: messageDetailSchema,
  },
  listEvents: {
    request: eventQuerySchema,
    response: z.object({ items: z.array(logEntrySchema), nextCursor: z.string().nullable() }),
  },
  getStats: { request: empty, response: statsSchema },
  /**
   * Everything matching the query (up to `max`, default 100,000), streamed to a file: on the
   * desktop into the file the user picks in a save dialog, in a browser as a download. The export
   * itself never travels over this channel.
   */
  exportMessages: {
    request: z.strictObject({
      query: messageQuerySchema.omit({ cursor: true, limit: true }),
      format: exportFormatSchema,
      max: z.number().int().min(1).max(1_000_000).optional(),
    }),
    response: z.object({
      /** The file's name: the one saved (desktop), or the download's (browser). */
      fileName: z.string(),
      /**
       * Messages written to the file. Null when nothing was written yet: the save dialog was
       * cancelled, or a download is waiting to be fetched (it counts as it streams).
       */
      count: z.number().int().nullable(),
      /** Desktop: the full path of the file written; null when the save dialog was cancelled. */
      savedTo: z.string().nullable(),
      /**
       * Browser: where the page fetches the file, once, within a minute (`/export/<id>` on the
       * page's own server, under the same access checks as every other request). Null on the
       * desktop.
       */
      downloadUrl: z.string().nullable(),
    }),
  },
  /** Orders from the LIS and added by hand, newest first. */
  listOrders: {
    request: z.strictObject({
      sampleId: z.string().trim().min(1).max(200).optional(),
      state: orderStateSchema.optional(),
      instrumentId: id.optional(),
      limit: limit(10_000),
    }),
    response: z.array(orderSchema),
  },
  /** An order for a sample the LIS did not send; tests are LIS codes. */
  addOrder: {
    request: z.strictObject({
      sampleId: z.string().trim().min(1, 'must not be empty').max(200),
      tests: z.array(z.string().trim().min(1).max(64)).min(1, 'name at least one test').max(200),
      patientId: z.string().trim().max(200).optional(),
      patientName: z.string().trim().max(200).optional(),
      priority: z.enum(['S', 'A', 'R']).optional(),
      instrumentId: id.optional(),
    }),
    response: orderSchema,
  },
  cancelOrder: { request: z.strictObject({ id: z.number().int().min(1) }), response: orderSchema },
  getOrderHistory: {
    request: z.strictObject({ id: z.number().int().min(1) }),
    response: z.array(orderHistoryEntrySchema),
  },
  /** Pending orders per instrument they are meant for; '' counts those for any instrument. */
  getPendingOrderCounts: { request: empty, response: z.record(z.string(), z.number()) },
  /** Destinations (the LIS side), each with its queue. */
  listDestinations: { request: empty, response: z.array(destinationStatusSchema) },
  /** The config is validated in main; problems come back with `fields`. */
  createDestination: {
    request: z.strictObject({ config: z.unknown() }),
    response: destinationStatusSchema,
  },
  /** Only this destination restarts. */
  updateDestination: {
    request: z.strictObject({ config: z.unknown() }),
    response: destinationStatusSchema,
  },
  /** Its waiting messages stay, held, until a destination with its id is back. */
  deleteDestination: { request: byId, response: ok },
  /** LIS maintenance: nothing is sent until it is released. */
  holdDestination: { request: byId, response: destinationStatusSchema },
  releaseDestination: { request: byId, response: destinationStatusSchema },
  /** Every failed message of the destination sent again (same control IDs). */
  retryFailed: { request: byId, response: z.object({ resent: z.number().int() }) },
  /** One message sent again, to one destination or every one it went to. */
  resendMessage: {
    request: z.strictObject({ messageId: z.number().int().min(1), destinationId: id.optional() }),
    response: z.object({ resent: z.number().int() }),
  },
  /** Outbox entries, oldest first. */
  listOutbox: {
    request: z.strictObject({
      destinationId: id.optional(),
      state: outboxStateSchema.optional(),
      messageId: z.number().int().min(1).optional(),
      limit: limit(10_000),
    }),
    response: z.array(outboxEntrySchema),
  },
  /** A message's deliveries, each with every attempt (time, what was sent, the answer). */
  getMessageForwarding: {
    request: z.strictObject({ messageId: z.number().int().min(1) }),
    response: z.array(messageForwardingSchema),
  },
  /** The order sources (LIS listeners): link state, connected peers, orders today, last error. */
  listOrderSources: { request: empty, response: z.array(orderSourceStatusSchema) },
  /** Built-in simulators on loopback: one ASTM and one HL7 analyzer, a server and a client link. */
  startDemo: { request: empty, response: z.object({ instrumentIds: z.array(z.string()) }) },
} as const;

/** Every event: its payload schema. High-rate ones carry batches. */
export const events = {
  linkStatus: z.object({ statuses: z.array(instrumentStatusSchema) }),
  messagesStored: z.object({ messages: z.array(storedMessageEventSchema) }),
  logged: z.object({ entries: z.array(logEntrySchema) }),
  statsTick: statsSchema,
  instrumentRemoved: z.object({ id: z.string() }),
  /** Every destination's card, whenever one changed (coalesced). */
  destinationStatus: z.object({ statuses: z.array(destinationStatusSchema) }),
} as const;

export type Commands = typeof commands;
export type CommandName = keyof Commands;
export type CommandRequest<C extends CommandName> = z.input<Commands[C]['request']>;
export type CommandResponse<C extends CommandName> = z.output<Commands[C]['response']>;

export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<E extends EventName> = z.output<Events[E]>;

export const commandNames = Object.keys(commands) as CommandName[];
export const eventNames = Object.keys(events) as EventName[];

/** What every command call resolves to on the wire: a value, or a coded error in plain words. */
export type CommandResult<C extends CommandName> =
  { ok: true; value: CommandResponse<C> } | { ok: false; error: CommandError };

/** The API the renderer sees, whichever transport carries it. */
export type GatewayApi = {
  [C in CommandName]: (request: CommandRequest<C>) => Promise<CommandResult<C>>;
} & {
  [E in EventName as `on${Capitalize<E>}`]: (
    listener: (payload: EventPayload<E>) => void,
  ) => () => void;
};

/** `linkStatus` → `onLinkStatus`. */
export function subscriberName<E extends EventName>(event: E): `on${Capitalize<E>}` {
  return `on${event[0]!.toUpperCase()}${event.slice(1)}` as `on${Capitalize<E>}`;
}

export { channelOf } from './channels';

/** Validates a request; the error lists the fields in plain words. */
export function parseRequest<C extends CommandName>(
  command: C,
  payload: unknown,
): { ok: true; value: z.output<Commands[C]['request']> } | { ok: false; error: CommandError } {
  const schema = commands[command].request as z.ZodType;
  const parsed = schema.safeParse(payload ?? {});
  if (parsed.success) return { ok: true, value: parsed.data as z.output<Commands[C]['request']> };
  return {
    ok: false,
    error: {
      code: 'INVALID_REQUEST',
      message: `${command}: the request is not valid`,
      fields: parsed.error.issues.map((issue) => ({
        field: issue.path.map(String).join('.') || '(request)',
        message: issue.message,
      })),
    },
  };
}

export function isCommandName(name: unknown): name is CommandName {
  return typeof name === 'string' && Object.hasOwn(commands, name);
}
