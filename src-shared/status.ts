import { z } from 'zod';
import { instrumentSourceSchema, serialSettingsSchema } from './config';
import { protocolSchema } from './results';

/** What a link is doing, as the dashboard shows it. */
export const linkStateSchema = z.enum([
  'disabled',
  'listening',
  'connecting',
  'connected',
  'reconnecting',
  'error',
]);
export type LinkState = z.infer<typeof linkStateSchema>;

export const codedErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
});
export type CodedError = z.infer<typeof codedErrorSchema>;

export const countersSchema = z.object({
  /** Local calendar day the counters belong to, `YYYY-MM-DD`; they roll over at midnight. */
  day: z.string(),
  messagesIn: z.number().int(),
  messagesOut: z.number().int(),
  errors: z.number().int(),
});
export type Counters = z.infer<typeof countersSchema>;

export const instrumentStatusSchema = z.object({
  id: z.string(),
  name: z.string(),
  protocol: protocolSchema,
  transport: z.enum(['tcp', 'serial']),
  /** TCP links; null for a serial link. */
  mode: z.enum(['server', 'client']).nullable(),
  host: z.string(),
  /** TCP links; null for a serial link. */
  port: z.number().int().nullable(),
  /** Serial links: the port and its line settings; null for TCP. */
  serial: serialSettingsSchema.nullable(),
  enabled: z.boolean(),
  state: linkStateSchema,
  /** When `state` last changed (ms since the epoch). */
  since: z.number(),
  /** Why it changed, in plain words. */
  reason: z.string(),
  /** Connected peer addresses. */
  peers: z.array(z.string()),
  /** While reconnecting: when the next attempt happens. */
  nextRetryAt: z.number().nullable(),
  lastActivityAt: z.number().nullable(),
  lastMessageAt: z.number().nullable(),
  counters: countersSchema,
  lastError: codedErrorSchema.extend({ at: z.number() }).nullable(),
  /** No traffic for longer than the configured silence period while traffic is expected. */
  silent: z.boolean(),
  /** Storage failed: the gateway is refusing to acknowledge. */
  storageFailing: z.boolean(),
  /** The link is down because a user pressed Disconnect, not because of a fault. */
  disconnectedByUser: z.boolean(),
  /** Where its settings live: the configuration file (read-only here) or the application. */
  managedBy: instrumentSourceSchema,
});
export type InstrumentStatus = z.infer<typeof instrumentStatusSchema>;

export const directionSchema = z.enum(['in', 'out']);
export type Direction = z.infer<typeof directionSchema>;

/**
 * `stored`: received whole and read without errors. `incomplete`: the transmission ended before
 * the message did. `error`: stored, but parts could not be read. `rejected`: refused (NAK, AE, AR)
 * and kept for the record. Outgoing: `pending` until the peer answers, then `sent` or `failed`.
 * Other words are accepted and kept as given.
 */
export type MessageStatus =
  'stored' | 'incomplete' | 'error' | 'rejected' | 'pending' | 'sent' | 'failed' | (string & {});

export const eventLevelSchema = z.enum(['info', 'warn', 'error']);
export type EventLevel = z.infer<typeof eventLevelSchema>;

export const messageSummarySchema = z.object({
  id: z.number().int(),
  instrumentId: z.string(),
  protocol: protocolSchema,
  direction: directionSchema,
  receivedAt: z.number(),
  controlId: z.string().nullable(),
  sampleIds: z.array(z.string()),
  patientIds: z.array(z.string()),
  testCodes: z.array(z.string()),
  status: z.string() as z.ZodType<MessageStatus>,
  ack: z.string().nullable(),
  resultCount: z.number().int(),
  errorCount: z.number().int(),
  /** Some of its results are quality control or calibration. */
  qc: z.boolean(),
  /** The first characters of the text, for a list row. */
  preview: z.string(),
  /** Bytes on the wire. */
  size: z.number().int(),
  /**
   * Where its delivery to the LIS stands, the worst of its destinations: failed, held, pending,
   * delivered; null when it is not forwarded; absent where nobody looked.
   */
  forwarding: z.enum(['pending', 'delivered', 'failed', 'held']).nullable().optional(),
});
export type MessageSummary = z.infer<typeof messageSummarySchema>;

/** The fields of a message summary, to pick them out of richer records. */
export const messageSummaryKeys = Object.keys(
  messageSummarySchema.shape,
) as (keyof MessageSummary)[];

/** Just the summary fields of a richer message record (what goes over IPC for a list row). */
export function toMessageSummary(message: MessageSummary): MessageSummary {
  const out: Partial<Record<keyof MessageSummary, unknown>> = {};
  for (const key of messageSummaryKeys) out[key] = message[key];
  return out as MessageSummary;
}
