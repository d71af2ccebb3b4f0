import { z } from 'zod';

/**
 * Orders from the LIS: what the `orders --json` command prints and the Orders page shows.
 * `tests` are the LIS codes as ordered; the instrument's own codes are worked out when an order
 * is sent (`testCodes` read backwards).
 */
export const orderStateSchema = z.enum(['pending', 'sent', 'resulted', 'cancelled']);
export type OrderState = z.infer<typeof orderStateSchema>;

export const orderSchema = z.object({
  id: z.number().int(),
  sampleId: z.string(),
  patientId: z.string().nullable(),
  patientName: z.string().nullable(),
  tests: z.array(z.string()),
  /** Tests that have a result so far (LIS codes); all of them once the order is `resulted`. */
  resultedTests: z.array(z.string()),
  priority: z.string().nullable(),
  /** The instrument the order is meant for; null: any instrument that asks for the sample. */
  instrumentId: z.string().nullable(),
  state: orderStateSchema,
  /** Where it came from: an order source's id, `manual` or `import`. */
  source: z.string(),
  receivedAt: z.string(),
  sentAt: z.string().nullable(),
  resultedAt: z.string().nullable(),
});
export type Order = z.infer<typeof orderSchema>;

/** One line of an order's history: who asked, what was sent when, which message resulted it. */
export const orderHistoryEntrySchema = z.object({
  at: z.string(),
  kind: z.enum([
    'received',
    'changed',
    'cancelled',
    'queried',
    'sent',
    'result',
    'resulted',
    'expired',
  ]),
  instrumentId: z.string().nullable(),
  messageId: z.number().int().nullable(),
  detail: z.string(),
});
export type OrderHistoryEntry = z.infer<typeof orderHistoryEntrySchema>;
