import { z } from 'zod';

/**
 * One normalized result, the same shape for ASTM and HL7 (see the contract's `decode` output).
 * Every field is null where the message has none; padding spaces are trimmed.
 */
export const resultSchema = z.object({
  sampleId: z.string().nullable(),
  patientId: z.string().nullable(),
  testCode: z.string().nullable(),
  value: z.string().nullable(),
  units: z.string().nullable(),
  flags: z.string().nullable(),
  status: z.string().nullable(),
  /** ISO-8601; without a zone when the message gives none. */
  observedAt: z.string().nullable(),
});

export type Result = z.infer<typeof resultSchema>;

export const protocolSchema = z.enum(['astm', 'hl7']);
export type Protocol = z.infer<typeof protocolSchema>;

/**
 * A result as the gateway stores it: what the analyzer sent, read with the instrument's profile,
 * and whether the instrument's QC rules marked it as a quality-control or calibration result.
 */
export const storedResultSchema = resultSchema.extend({ qc: z.boolean() });
export type StoredResult = z.infer<typeof storedResultSchema>;
