/**
 * The fields of a normalized result, named once: without zod, so that the command line's light
 * paths (decode) and the store's checks can list them without loading the schemas.
 */

/** The normalized result fields, in the order the contract lists them. */
export const RESULT_FIELDS = [
  'sampleId',
  'patientId',
  'testCode',
  'value',
  'units',
  'flags',
  'status',
  'observedAt',
] as const;
export type ResultField = (typeof RESULT_FIELDS)[number];

/** How the UI and the README name each field. */
export const RESULT_FIELD_LABELS: Readonly<Record<ResultField, string>> = {
  sampleId: 'Sample ID',
  patientId: 'Patient ID',
  testCode: 'Test code',
  value: 'Value',
  units: 'Units',
  flags: 'Flags',
  status: 'Status',
  observedAt: 'Result time',
};
