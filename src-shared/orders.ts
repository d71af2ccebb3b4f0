import { z } from 'zod';
import { linkStateSchema } from './status';

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

/** An order source (an MLLP listener a LIS sends its orders to), as the dashboard shows it. */
export const orderSourceStatusSchema = z.object({
  id: z.string(),
  host: z.string(),
  port: z.number().int(),
  state: linkStateSchema,
  /** When `state` last changed (ms since the epoch), and why in plain words. */
  since: z.number(),
  reason: z.string(),
  /** Addresses of the LIS connections open now. */
  peers: z.array(z.string()),
  /** Orders it brought since local midnight. */
  ordersToday: z.number().int(),
  /** When its last order message arrived. */
  lastOrderAt: z.number().nullable(),
  /** The last thing that went wrong: a message refused, a connection turned away. */
  lastError: z.object({ at: z.number(), code: z.string(), message: z.string() }).nullable(),
});
export type OrderSourceStatus = z.infer<typeof orderSourceStatusSchema>;
