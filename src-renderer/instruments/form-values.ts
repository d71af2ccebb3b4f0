/**
 * The instrument form as text fields, and the way between it and an instrument config. Field
 * keys are the config's own paths (`reconnect.maxDelayMs`), so the schema's problems and the
 * server's `fields` land next to the right input without a translation table.
 */
import {
  describeIssues,
  instrumentConfigSchema,
  serialSettingsSchema,
  type InstrumentConfig,
  type SerialSettings,
} from '../../src-shared/config';
import { fromAmount, toAmount, type DurationUnit } from './duration';

export interface FormValues {
  id: string;
  name: string;
  protocol: 'astm' | 'hl7';
  transport: 'tcp' | 'serial';
  mode: 'server' | 'client';
  host: string;
  port: string;
  'serial.path': string;
  'serial.baudRate': string;
  'serial.dataBits': '5' | '6' | '7' | '8';
  'serial.parity': SerialSettings['parity'];
  'serial.stopBits': '1' | '2';
  'serial.flowControl': SerialSettings['flowControl'];
  enabled: boolean;
  encoding: 'latin1' | 'utf8';
  maxConnections: string;
  /** One address per line (commas and spaces also separate). */
  allowedPeers: string;
  connectTimeoutMs: string;
  'reconnect.initialDelayMs': string;
  'reconnect.maxDelayMs': string;
  'reconnect.factor': string;
  'reconnect.jitter': string;
  keepAliveMs: string;
  idleTimeoutMs: string;
  maxMessageBytes: string;
  maxBufferedBytes: string;
  silenceAlarm: boolean;
  /** How long without a message, in `silence.afterUnit`s; the config keeps `silence.afterMs`. */
  'silence.after': string;
  'silence.afterUnit': DurationUnit;
  'silence.fromHour': string;
  'silence.toHour': string;
  'astm.framing': 'e1381' | 'raw';
  'astm.frameSize': string;
  'astm.maxFrameText': string;
  'astm.idleGapMs': string;
  'hl7.mllpCommitAck': boolean;
}

export type FieldName = keyof FormValues;
export type FieldErrors = Partial<Record<FieldName, string>>;

/** The schema's defaults, so a new form starts where the gateway would. */
const defaults: InstrumentConfig = instrumentConfigSchema.parse({
  id: 'new',
  protocol: 'astm',
  mode: 'server',
  port: 1,
});

export function toFormValues(config: InstrumentConfig): FormValues {
  return {
    id: config.id,
    name: config.name ?? '',
    protocol: config.protocol,
    transport: config.transport,
    mode: config.mode ?? 'server',
    host: config.host,
    port: config.port === undefined ? '' : String(config.port),
    ...serialValues(config.serial),
    enabled: config.enabled,
    encoding: config.encoding,
    maxConnections: String(config.maxConnections),
    allowedPeers: config.allowedPeers.join('\n'),
    connectTimeoutMs: String(config.connectTimeoutMs),
    'reconnect.initialDelayMs': String(config.reconnect.initialDelayMs),
    'reconnect.maxDelayMs': String(config.reconnect.maxDelayMs),
    'reconnect.factor': String(config.reconnect.factor),
    'reconnect.jitter': String(config.reconnect.jitter),
    keepAliveMs: String(config.keepAliveMs),
    idleTimeoutMs: String(config.idleTimeoutMs),
    maxMessageBytes: String(config.maxMessageBytes),
    maxBufferedBytes: String(config.maxBufferedBytes),
    silenceAlarm: config.silence !== undefined,
    ...silenceAfter(config.silence?.afterMs ?? 600_000),
    'silence.fromHour': String(config.silence?.fromHour ?? 0),
    'silence.toHour': String(config.silence?.toHour ?? 24),
    'astm.framing': config.astm.framing,
    'astm.frameSize': String(config.astm.frameSize),
    'astm.maxFrameText': String(config.astm.maxFrameText),
    'astm.idleGapMs': String(config.astm.idleGapMs),
    'hl7.mllpCommitAck': config.hl7.mllpCommitAck,
  };
}

function serialValues(serial: SerialSettings | undefined): SerialFormValues {
  // The schema's defaults for the line; the path stays empty until one is chosen.
  const line = serial ?? { ...serialSettingsSchema.parse({ path: '-' }), path: '' };
  return {
    'serial.path': line.path,
    'serial.baudRate': String(line.baudRate),
    'serial.dataBits': String(line.dataBits) as FormValues['serial.dataBits'],
    'serial.parity': line.parity,
    'serial.stopBits': String(line.stopBits) as FormValues['serial.stopBits'],
    'serial.flowControl': line.flowControl,
  };
}

type SerialFormValues = Pick<
  FormValues,
  | 'serial.path'
  | 'serial.baudRate'
  | 'serial.dataBits'
  | 'serial.parity'
  | 'serial.stopBits'
  | 'serial.flowControl'
>;

/** The serial settings the form describes, as the schema reads them (numbers may be missing). */
export function serialInput(values: FormValues, baudRate: number | undefined) {
  return {
    path: values['serial.path'].trim(),
    baudRate,
    dataBits: Number(values['serial.dataBits']) as SerialSettings['dataBits'],
    parity: values['serial.parity'],
    stopBits: Number(values['serial.stopBits']) as SerialSettings['stopBits'],
    flowControl: values['serial.flowControl'],
  };
}

function silenceAfter(ms: number): Pick<FormValues, 'silence.after' | 'silence.afterUnit'> {
  const { amount, unit } = toAmount(ms);
  return { 'silence.after': amount, 'silence.afterUnit': unit };
}

export function newFormValues(): FormValues {
  return { ...toFormValues(defaults), id: '', port: '' };
}

/**
 * The config the form describes, checked with the same schema the gateway uses. Text that is
 * not a number is reported here, since the schema would only see a missing value.
 *
 * `base` is the instrument's config as the gateway has it: the form's fields are laid over it, so
 * a setting the form does not show (`orders`, `forwardTo`, anything set in the file or by the
 * API) is kept as it is rather than reset to its default. A field the form empties (no name, no
 * silence alarm, no port on a serial link) is removed.
 */
export function readForm(
  values: FormValues,
  base: InstrumentConfig | null = null,
): { ok: true; config: InstrumentConfig } | { ok: false; errors: FieldErrors; general: string[] } {
  const errors: FieldErrors = {};
  const general: string[] = [];
  const number = (field: FieldName): number | undefined => {
    const text = String(values[field]).trim();
    if (text === '') return undefined;
    const value = Number(text);
    if (!Number.isFinite(value)) {
      errors[field] = 'must be a number';
      return undefined;
    }
    return value;
  };
  const silenceAfterMs = (): number | undefined => {
    const read = fromAmount(values['silence.after'], values['silence.afterUnit']);
    if (read.ok) return read.ms;
    errors['silence.after'] = read.problem;
    return undefined;
  };
  const serial = values.transport === 'serial';
  const input = {
    id: values.id.trim(),
    name: values.name.trim() === '' ? undefined : values.name.trim(),
    protocol: values.protocol,
    transport: values.transport,
    mode: serial ? undefined : values.mode,
    host: values.host,
    port: serial ? undefined : number('port'),
    serial: serial ? serialInput(values, number('serial.baudRate')) : undefined,
    enabled: values.enabled,
    encoding: values.encoding,
    maxConnections: number('maxConnections'),
    allowedPeers: values.allowedPeers.split(/[\s,]+/).filter((peer) => peer !== ''),
    connectTimeoutMs: number('connectTimeoutMs'),
    reconnect: {
      initialDelayMs: number('reconnect.initialDelayMs'),
      maxDelayMs: number('reconnect.maxDelayMs'),
      factor: number('reconnect.factor'),
      jitter: number('reconnect.jitter'),
    },
    keepAliveMs: number('keepAliveMs'),
    idleTimeoutMs: number('idleTimeoutMs'),
    maxMessageBytes: number('maxMessageBytes'),
    maxBufferedBytes: number('maxBufferedBytes'),
    silence: values.silenceAlarm
      ? {
          afterMs: silenceAfterMs(),
          fromHour: number('silence.fromHour'),
          toHour: number('silence.toHour'),
        }
      : undefined,
    astm: {
      framing: values['astm.framing'],
      frameSize: number('astm.frameSize'),
      maxFrameText: number('astm.maxFrameText'),
      idleGapMs: number('astm.idleGapMs'),
    },
    hl7: { mllpCommitAck: values['hl7.mllpCommitAck'] },
  };
  if (input.id === '') errors.id = 'must not be empty';
  if (!serial && values.port.trim() === '') errors.port = 'must not be empty';
  if (serial && values['serial.path'].trim() === '') errors['serial.path'] = 'must not be empty';
  const parsed = instrumentConfigSchema.safeParse(base ? overlay(base, input) : input);
  if (parsed.success && Object.keys(errors).length === 0) return { ok: true, config: parsed.data };
  if (!parsed.success) {
    for (const problem of describeIssues(parsed.error)) {
      const field = fieldOf(problem.field);
      if (field) errors[field] ??= problem.message;
      else general.push(`${problem.field}: ${problem.message}`);
    }
  }
  return { ok: false, errors, general };
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * `edits` laid over `base`: nested objects (`astm`, `reconnect`, `serial`…) are merged key by key
 * so their unshown keys survive; arrays and plain values are replaced; a key `edits` sets to
 * undefined is removed. Keys only in `base` are kept.
 */
export function overlay(
  base: Readonly<Record<string, unknown>>,
  edits: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(edits)) {
    if (value === undefined) delete result[key];
    else if (isPlainObject(value) && isPlainObject(base[key]))
      result[key] = overlay(base[key], value);
    else result[key] = value;
  }
  return result;
}

const fieldNames = new Set<string>(Object.keys(newFormValues()));

/**
 * The form field a problem's path points at: `port`, `config.port`, `instruments[0].port`,
 * `allowedPeers[2]` or `silence` (the alarm as a whole). Null when no field matches.
 */
export function fieldOf(path: string): FieldName | null {
  const trimmed = path
    .replace(/^config\./, '')
    .replace(/^instruments\[\d+\]\./, '')
    .replace(/\[\d+\]$/, '');
  if (fieldNames.has(trimmed)) return trimmed as FieldName;
  if (trimmed === 'silence' || trimmed === 'silence.afterMs') return 'silence.after';
  return null;
}

/** Server problems split into those next to a field and those about the form as a whole. */
export function placeServerProblems(problems: readonly { field: string; message: string }[]): {
  errors: FieldErrors;
  general: string[];
} {
  const errors: FieldErrors = {};
  const general: string[] = [];
  for (const problem of problems) {
    const field = fieldOf(problem.field);
    if (field)
      errors[field] = errors[field] ? `${errors[field]}; ${problem.message}` : problem.message;
    else general.push(`${problem.field}: ${problem.message}`);
  }
  return { errors, general };
}
