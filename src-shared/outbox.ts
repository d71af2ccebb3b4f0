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
