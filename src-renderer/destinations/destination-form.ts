/**
 * The destination form as text fields, and the way between it and a destination config. Field
 * keys are the config's own top-level keys, so the schema's problems and the server's `fields`
 * land next to the right input.
 */
import {
  describeIssues,
  destinationConfigSchema,
  type DestinationConfig,
  type DestinationType,
} from '../../src-shared/config';

export interface HeaderRow {
  header: string;
  env: string;
}

export interface DestinationFormValues {
  type: DestinationType;
  id: string;
  name: string;
  enabled: boolean;
  host: string;
  port: string;
  ackTimeoutMs: string;
  window: string;
  passthrough: boolean;
  url: string;
  httpFormat: 'json' | 'fhir';
  caFile: string;
  headersFromEnv: HeaderRow[];
  timeoutMs: string;
  directory: string;
  fileFormat: 'hl7' | 'json' | 'csv';
}

export type DestinationField =
  | 'type'
  | 'id'
  | 'name'
  | 'host'
  | 'port'
  | 'ackTimeoutMs'
  | 'window'
  | 'url'
  | 'format'
  | 'caFile'
  | 'headersFromEnv'
  | 'timeoutMs'
  | 'directory';

export type DestinationErrors = Partial<Record<DestinationField, string>>;

export function newDestinationValues(): DestinationFormValues {
  return {
    type: 'hl7',
    id: '',
    name: '',
    enabled: true,
    host: '',
    port: '',
    ackTimeoutMs: '30000',
    window: '1',
    passthrough: false,
    url: '',
    httpFormat: 'json',
    caFile: '',
    headersFromEnv: [],
    timeoutMs: '30000',
    directory: '',
    fileFormat: 'hl7',
  };
}

const text = (value: unknown, fallback = ''): string =>
  typeof value === 'string' || typeof value === 'number' ? String(value) : fallback;

/** The form for a destination's settings as the gateway lists them. */
export function toDestinationValues(config: Record<string, unknown>): DestinationFormValues {
  const values = newDestinationValues();
  const type = config.type === 'http' || config.type === 'file' ? config.type : 'hl7';
  const headers =
    config.headersFromEnv && typeof config.headersFromEnv === 'object'
      ? Object.entries(config.headersFromEnv as Record<string, unknown>).map(([header, env]) => ({
          header,
          env: text(env),
        }))
      : [];
  return {
    ...values,
    type,
    id: text(config.id),
    name: text(config.name),
    enabled: config.enabled !== false,
    host: text(config.host),
    port: text(config.port),
    ackTimeoutMs: text(config.ackTimeoutMs, values.ackTimeoutMs),
    window: text(config.window, values.window),
    passthrough: config.passthrough === true,
    url: text(config.url),
    httpFormat: type === 'http' && config.format === 'fhir' ? 'fhir' : 'json',
    caFile: text(config.caFile),
    headersFromEnv: headers,
    timeoutMs: text(config.timeoutMs, values.timeoutMs),
    directory: text(config.directory),
    fileFormat:
      type === 'file' && (config.format === 'json' || config.format === 'csv')
        ? config.format
        : 'hl7',
  };
}

/** A number typed as text; anything else is passed on as typed so the schema names it. */
function numberOf(value: string): number | string | undefined {
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  const n = Number(trimmed);
  return Number.isFinite(n) ? n : trimmed;
}

/**
 * What the form would save. Settings the form does not show (retry, reconnect, alarm threshold,
 * encoding, …) are kept from `original`, so saving never loses them.
 */
export function candidateConfig(
  values: DestinationFormValues,
  original: Record<string, unknown> | null,
): Record<string, unknown> {
  const keep = original && original.type === values.type ? { ...original } : {};
  const common: Record<string, unknown> = {
    ...keep,
    type: values.type,
    id: values.id.trim(),
    enabled: values.enabled,
  };
  if (values.name.trim() === '') delete common.name;
  else common.name = values.name.trim();
  const set = (key: string, value: unknown) => {
    if (value === undefined || value === '') delete common[key];
    else common[key] = value;
  };
  switch (values.type) {
    case 'hl7':
      common.host = values.host.trim();
      set('port', numberOf(values.port));
      set('ackTimeoutMs', numberOf(values.ackTimeoutMs));
      set('window', numberOf(values.window));
      common.passthrough = values.passthrough;
      break;
    case 'http':
      common.url = values.url.trim();
      common.format = values.httpFormat;
      set('caFile', values.caFile.trim());
      common.headersFromEnv = Object.fromEntries(
        values.headersFromEnv
          .filter((row) => row.header.trim() !== '' || row.env.trim() !== '')
          .map((row) => [row.header.trim(), row.env.trim()]),
      );
      set('timeoutMs', numberOf(values.timeoutMs));
      break;
    case 'file':
      common.directory = values.directory.trim();
      common.format = values.fileFormat;
      break;
  }
  return common;
}

const FIELDS: readonly DestinationField[] = [
  'type',
  'id',
  'name',
  'host',
  'port',
  'ackTimeoutMs',
  'window',
  'url',
  'format',
  'caFile',
  'headersFromEnv',
  'timeoutMs',
  'directory',
];

/** Problems named by path ("port", "headersFromEnv.Authorization") placed on the form's fields. */
export function placeProblems(problems: { field: string; message: string }[]): {
  errors: DestinationErrors;
  general: string[];
} {
  const errors: DestinationErrors = {};
  const general: string[] = [];
  for (const problem of problems) {
    const path = problem.field.replace(/^config\./u, '');
    const [head = '', ...rest] = path.split('.');
    const field = FIELDS.find((f) => f === head);
    if (!field) {
      general.push(problem.field ? `${problem.field}: ${problem.message}` : problem.message);
      continue;
    }
    const message = rest.length > 0 ? `${rest.join('.')}: ${problem.message}` : problem.message;
    errors[field] ??= message;
  }
  return { errors, general };
}

export type ReadDestination =
  | { ok: true; config: DestinationConfig; candidate: Record<string, unknown> }
  | { ok: false; errors: DestinationErrors; general: string[] };

/** Checks the form with the same schema the gateway uses. */
export function readDestinationForm(
  values: DestinationFormValues,
  original: Record<string, unknown> | null,
): ReadDestination {
  const candidate = candidateConfig(values, original);
  const parsed = destinationConfigSchema.safeParse(candidate);
  if (parsed.success) return { ok: true, config: parsed.data, candidate };
  return { ok: false, ...placeProblems(describeIssues(parsed.error)) };
}
