import { z } from 'zod';

/**
 * Results to the LIS: what the `outbox --json` command prints and the screens show. An entry is
 * one stored message for one destination. `held`: waiting for a destination on hold or one that
 * is no longer configured; `pending`: in delivery (also while being retried).
 */
export const outboxStateSchema = z.enum(['pending', 'delivered', 'failed', 'held']);
export type OutboxState = z.infer<typeof outboxStateSchema>;

/** Which of a message's results a destination receives. */
export type OutboxScope = 'patient' | 'qc' | 'all';

export const outboxEntrySchema = z.object({
  messageId: z.number().int(),
  destinationId: z.string(),
  state: outboxStateSchema,
  attempts: z.number().int(),
  /** The MSH-10 (HL7) or identifier (HTTP, file) the destination receives, the same on every resend. */
  controlId: z.string(),
  lastAttemptAt: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  /** Plain words: what the destination answered, or why it could not be reached. */
  error: z.string().nullable(),
});
export type OutboxEntry = z.infer<typeof outboxEntrySchema>;

/** The control ID an outbox entry carries on every attempt. */
export function outboxControlId(entryId: number): string {
  return `LGO${entryId}`;
}

export const outboxAttemptSchema = z.object({
  at: z.number(),
  outcome: z.enum(['delivered', 'failed', 'retry']),
  /** What was sent. */
  sent: z.string(),
  /** The destination's answer, or why there was none. */
  answer: z.string().nullable(),
});
export type OutboxAttemptView = z.infer<typeof outboxAttemptSchema>;

/** A message's delivery to one destination, with every attempt: the detail pane's Forwarding tab. */
export const messageForwardingSchema = z.object({
  entry: outboxEntrySchema,
  attempts: z.array(outboxAttemptSchema),
});
export type MessageForwarding = z.infer<typeof messageForwardingSchema>;

export const destinationStateSchema = z.enum([
  'idle',
  'delivering',
  'waiting',
  'retrying',
  'held',
  'disabled',
  'removed',
]);
export type DestinationState = z.infer<typeof destinationStateSchema>;

/** A destination as the Dashboard's card shows it. */
export const destinationStatusSchema = z.object({
  id: z.string(),
  name: z.string(),
  type: z.enum(['hl7', 'http', 'file']),
  /** Where its settings live; null for a destination removed while messages still wait for it. */
  source: z.enum(['file', 'app']).nullable(),
  /** Its settings (never secrets: HTTP headers are named environment variables). */
  config: z.record(z.string(), z.unknown()).nullable(),
  state: destinationStateSchema,
  /** Plain words for the state, e.g. the reason the LIS cannot be reached. */
  reason: z.string(),
  nextRetryAt: z.number().nullable(),
  held: z.boolean(),
  /** Entries waiting to be delivered. */
  pending: z.number().int(),
  /** Entries waiting while it is on hold or gone. */
  heldEntries: z.number().int(),
  failed: z.number().int(),
  deliveredToday: z.number().int(),
  /** When the oldest waiting entry was stored (ms), null when none waits. */
  oldestWaitingAt: z.number().nullable(),
  lastError: z.string().nullable(),
  /** The oldest waiting entry is older than the destination's alarm threshold. */
  alarm: z.boolean(),
});
export type DestinationStatusView = z.infer<typeof destinationStatusSchema>;
