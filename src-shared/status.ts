import { z } from 'zod';
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
  mode: z.enum(['server', 'client']),
  host: z.string(),
  port: z.number().int(),
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
});
export type InstrumentStatus = z.infer<typeof instrumentStatusSchema>;

export const messageSummarySchema = z.object({
  id: z.number().int(),
  instrumentId: z.string(),
  protocol: protocolSchema,
  direction: z.enum(['in', 'out']),
  receivedAt: z.number(),
  controlId: z.string().nullable(),
  sampleIds: z.array(z.string()),
  patientIds: z.array(z.string()),
  testCodes: z.array(z.string()),
  status: z.string(),
  ack: z.string().nullable(),
  resultCount: z.number().int(),
  errorCount: z.number().int(),
  /** The first characters of the text, for a list row. */
  preview: z.string(),
  /** Bytes on the wire. */
  size: z.number().int(),
});
export type MessageSummary = z.infer<typeof messageSummarySchema>;
