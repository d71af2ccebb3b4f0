import { z } from 'zod';
import { PROFILE_NAMES, profileNamed } from './profiles';
import { protocolSchema } from './results';

/**
 * The gateway configuration: the JSON file `serve --config` reads and the instrument records the
 * UI edits. Unknown keys are errors so a typo never silently falls back to a default.
 */

const port = z
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .min(1, 'must be between 1 and 65535')
  .max(65535, 'must be between 1 and 65535');

const millis = (fallback: number, min = 0) =>
  z
    .number({ error: 'must be a number of milliseconds' })
    .int('must be a whole number of milliseconds')
    .min(min, `must be at least ${min} ms`)
    .default(fallback);

/** Waits between attempts: from 1 s, each `factor` times longer, capped at `maxDelayMs`. */
function backoffSchema(maxDelayMs: number) {
  return z
    .strictObject({
      initialDelayMs: millis(1_000, 10),
      maxDelayMs: millis(maxDelayMs, 10),
      factor: z.number().min(1, 'must be at least 1').max(10, 'must be at most 10').default(2),
      /** Fraction of each delay added or removed at random, so many links do not retry together. */
      jitter: z
        .number()
        .min(0, 'must be between 0 and 1')
        .max(1, 'must be between 0 and 1')
        .default(0.2),
    })
    .prefault({});
}

export const reconnectSchema = backoffSchema(60_000);

export const silenceSchema = z.strictObject({
  /** Warn when no message arrived for this long… */
  afterMs: z.number().int().min(1_000, 'must be at least 1000 ms'),
  /** …between these local hours (0–24), when traffic is expected. */
  fromHour: z.number().int().min(0).max(24).default(0),
  toHour: z.number().int().min(0).max(24).default(24),
});

export const astmOptionsSchema = z
  .strictObject({
    /** Text bytes per frame we send; most instruments expect 240. */
    frameSize: z.number().int().min(16).max(64_000).default(240),
    /** Largest frame text accepted. */
    maxFrameText: z.number().int().min(16).max(1_000_000).default(64_000),
    /**
     * `e1381` for ENQ/frames/EOT; `raw` for bare E1394 records without E1381 framing (records
     * end with CR, a message with its L record; nothing is sent back), over TCP or serial.
     */
    framing: z.enum(['e1381', 'raw']).default('e1381'),
    /**
     * Bare records only: a message without an L record is ended after this long without a byte
     * (for devices that send no L). 0: wait for L, the next H or the end of the connection.
     */
    idleGapMs: millis(5_000),
  })
  .prefault({});

export const hl7OptionsSchema = z
  .strictObject({
    /** Also answer MLLP Release 2 commit acknowledgements (0B 06 1C 0D). */
    mllpCommitAck: z.boolean().default(false),
  })
  .prefault({});

/**
 * Orders from the LIS for this instrument. `query`: answer its host queries; `push`: also send
 * each order meant for it (named by the order's MSH-5) as soon as it arrives or the instrument
 * next connects.
 */
export const instrumentOrdersSchema = z
  .strictObject({
    download: z.enum(['query', 'push']).default('query'),
    /** HL7 analyzers: what orders are sent as (each answered ORL^O34 or ACK). */
    hl7Message: z.enum(['OML^O33', 'ORM^O01']).default('OML^O33'),
  })
  .prefault({});

export const instrumentIdSchema = z
  .string({ error: 'must be text' })
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/,
    'must be 1–64 letters, digits, dots, dashes or underscores, starting with a letter or digit',
  );

const testCode = z
  .string({ error: 'must be text' })
  .trim()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters');

/** What the LIS receives for one instrument test code. */
export const testCodeMappingSchema = z.strictObject(
  {
    /** The LIS test code; the instrument's own code when absent. */
    code: testCode.optional(),
    /** The test's name, sent beside the code where the LIS format has a place for it. */
    name: z
      .string({ error: 'must be text' })
      .trim()
      .min(1, 'must not be empty')
      .max(200)
      .optional(),
    /** Units to send instead of those the analyzer sent. */
    units: z
      .string({ error: 'must be text' })
      .trim()
      .min(1, 'must not be empty')
      .max(64)
      .optional(),
    /** Never forwarded (instrument checks, internal channels). */
    exclude: z.boolean({ error: 'must be true or false' }).default(false),
  },
  {
    error: (issue) =>
      issue.code === 'invalid_type'
        ? 'must be a LIS test code, or an object with "code", "name", "units" or "exclude"'
        : undefined,
  },
);
export type TestCodeMapping = z.output<typeof testCodeMappingSchema>;

/**
 * Instrument test code → what the LIS receives. `{"GLU": "GLUC"}` is short for
 * `{"GLU": {"code": "GLUC"}}`; codes not in the map pass unchanged. Two codes forwarded under one
 * LIS code would be indistinguishable upstream (and orders could not be read backwards), so that
 * is refused.
 */
export const testCodesSchema = z
  .record(
    z.string().regex(/^\S(?:.*\S)?$/su, 'must not be empty or start or end with a space'),
    z.preprocess(
      (value) => (typeof value === 'string' ? { code: value } : value),
      testCodeMappingSchema,
    ),
  )
  .superRefine((codes, ctx) => {
    const firstWith = new Map<string, string>();
    for (const [instrumentCode, mapping] of Object.entries(codes)) {
      if (mapping.exclude) continue;
      const lisCode = mapping.code ?? instrumentCode;
      const first = firstWith.get(lisCode);
      if (first === undefined) firstWith.set(lisCode, instrumentCode);
      else {
        ctx.addIssue({
          code: 'custom',
          path: [instrumentCode],
          message: `sends the LIS code "${lisCode}", which "${first}" already sends; each LIS code may come from one instrument code`,
        });
      }
    }
  });

const samplePattern = z
  .string({ error: 'must be text' })
  .trim()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters');

/**
 * Which results are quality control or calibration: they are stored and shown with a QC mark,
 * never forwarded with patient results, and go only to `forwardTo`.
 */
export const qcRulesSchema = z
  .strictObject({
    /** Sample IDs of controls and calibrators: `*` stands for any characters, `?` for one; case is ignored. */
    sampleIds: z.array(samplePattern).default([]),
    /** Also the marks a message carries itself: ASTM O-12 or H-12 `Q`; HL7 SPM-11 `Q` or `C`. */
    messageMarks: z.boolean({ error: 'must be true or false' }).default(true),
    /** Destinations that receive this instrument's QC results; none by default. */
    forwardTo: z.array(instrumentIdSchema).default([]),
  })
  .prefault({});
export type QcRules = z.output<typeof qcRulesSchema>;

/** Line speeds offered; others that the port's driver accepts may be given in the file. */
export const SERIAL_BAUD_RATES = [
  300, 600, 1200, 2400, 4800, 9600, 14400, 19200, 38400, 57600, 115200, 230400,
] as const;

/** An RS-232 line: the port and how its bytes are framed. Defaults are 9600 8N1, no flow control. */
export const serialSettingsSchema = z.strictObject({
  /** `/dev/ttyUSB0`, `/dev/cu.usbserial-A10K`, `COM3`. */
  path: z.string({ error: 'must be text' }).trim().min(1, 'must not be empty').max(260),
  baudRate: z
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(50, 'must be between 50 and 4000000')
    .max(4_000_000, 'must be between 50 and 4000000')
    .default(9600),
  dataBits: z
    .union([z.literal(5), z.literal(6), z.literal(7), z.literal(8)], {
      error: 'must be 5, 6, 7 or 8',
    })
    .default(8),
  parity: z.enum(['none', 'even', 'odd', 'mark', 'space']).default('none'),
  stopBits: z.union([z.literal(1), z.literal(2)], { error: 'must be 1 or 2' }).default(1),
  /** `rtscts`: hardware handshake on the RTS/CTS lines; `xonxoff`: software, XON/XOFF bytes. */
  flowControl: z.enum(['none', 'rtscts', 'xonxoff']).default('none'),
});
export type SerialSettings = z.output<typeof serialSettingsSchema>;
export type SerialSettingsInput = z.input<typeof serialSettingsSchema>;

/** "9600 8N1", "19200 7E2 RTS/CTS": the line settings as a technician writes them. */
export function describeLine(serial: SerialSettings): string {
  const parity = serial.parity[0]!.toUpperCase();
  const flow =
    serial.flowControl === 'rtscts'
      ? ' RTS/CTS'
      : serial.flowControl === 'xonxoff'
        ? ' XON/XOFF'
        : '';
  return `${serial.baudRate} ${serial.dataBits}${parity}${serial.stopBits}${flow}`;
}

/** An instrument's settings, each checked on its own. */
const instrumentFieldsSchema = z.strictObject({
  id: instrumentIdSchema,
  name: z.string().trim().min(1, 'must not be empty').max(200).optional(),
  protocol: protocolSchema,
  /** `tcp` (server or client) or `serial` (an RS-232 port, with `serial`). */
  transport: z.enum(['tcp', 'serial']).default('tcp'),
  /** TCP only. */
  mode: z.enum(['server', 'client']).optional(),
  /** Server: the address to listen on. Client: the analyzer's address. */
  host: z.string().trim().min(1, 'must not be empty').default('127.0.0.1'),
  /** TCP only. */
  port: port.optional(),
  /** Serial only. */
  serial: serialSettingsSchema.optional(),
  enabled: z.boolean().default(true),
  /** Character set of the text on the wire; HL7 messages naming one in MSH-18 override it. */
  encoding: z.enum(['latin1', 'utf8']).default('latin1'),
  /** Server links: how many analyzer connections at once; more are refused. */
  maxConnections: z.number().int().min(1).max(64).default(1),
  /** Server links: only these peer addresses may connect (empty: anyone). */
  allowedPeers: z.array(z.string().trim().min(1)).default([]),
  /** Client links: give up a connection attempt after this long. */
  connectTimeoutMs: millis(10_000, 100),
  reconnect: reconnectSchema,
  /** TCP keepalive probe delay; 0 turns keepalive off. */
  keepAliveMs: millis(30_000),
  /** Close a connection that has been silent this long (0: never), to expose half-open peers. */
  idleTimeoutMs: millis(0),
  /** Largest single message accepted (HL7 block or ASTM message). */
  maxMessageBytes: z
    .number()
    .int()
    .min(1_024)
    .max(256 * 1024 * 1024)
    .default(4 * 1024 * 1024),
  /** Most bytes held for one connection before it is closed. */
  maxBufferedBytes: z
    .number()
    .int()
    .min(1_024)
    .max(1024 * 1024 * 1024)
    .default(16 * 1024 * 1024),
  silence: silenceSchema.optional(),
  astm: astmOptionsSchema,
  hl7: hl7OptionsSchema,
  /** A built-in instrument profile (src-shared/profiles.ts); the generic reading when absent. */
  profile: z.string({ error: 'must be text' }).optional(),
  testCodes: testCodesSchema.default({}),
  /** Destinations (ids from `destinations`) that receive this instrument's patient results. */
  forwardTo: z.array(instrumentIdSchema).default([]),
  qc: qcRulesSchema,
  orders: instrumentOrdersSchema,
});

/** An instrument's settings, also checked together. */
export const instrumentConfigSchema = instrumentFieldsSchema.superRefine((config, ctx) => {
  if (config.transport === 'tcp') {
    if (config.mode === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['mode'],
        message: 'must be "server" or "client" for a TCP link',
      });
    if (config.port === undefined)
      ctx.addIssue({ code: 'custom', path: ['port'], message: 'must be given for a TCP link' });
    if (config.serial !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['serial'],
        message: 'is only for "transport": "serial"; a TCP link does not read it',
      });
  } else {
    if (config.serial === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['serial'],
        message:
          'must be given for a serial link, at least {"path": "/dev/ttyUSB0"} or {"path": "COM3"}',
      });
    for (const key of ['mode', 'port'] as const) {
      if (config[key] !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: 'is not used by a serial link; remove it (the port and line are in "serial")',
        });
    }
  }
  if (
    config.protocol === 'astm' &&
    config.astm.framing === 'raw' &&
    config.orders.download === 'push'
  ) {
    ctx.addIssue({
      code: 'custom',
      path: ['orders', 'download'],
      message:
        '"push" sends orders in E1381 sessions, which a link set to bare records (astm.framing "raw") does not have; use "query" or set astm.framing to "e1381"',
    });
  }
  if (config.profile === undefined) return;
  const profile = profileNamed(config.profile);
  if (profile === null) {
    ctx.addIssue({
      code: 'custom',
      path: ['profile'],
      message: `unknown profile "${config.profile}"; the built-in profiles are ${PROFILE_NAMES.join(', ')}`,
    });
  } else if (profile.protocol !== config.protocol) {
    ctx.addIssue({
      code: 'custom',
      path: ['profile'],
      message: `"${profile.name}" (${profile.title}) is a profile for ${profile.protocol.toUpperCase()} instruments, and this one speaks ${config.protocol.toUpperCase()}`,
    });
  }
});

export type InstrumentConfigInput = z.input<typeof instrumentConfigSchema>;

/**
 * Where an instrument's settings live: `file`, the configuration file the gateway was started
 * with (change them there; the UI shows them read-only), or `app`, added or edited in the UI and
 * kept in the database across restarts.
 */
export const instrumentSourceSchema = z.enum(['file', 'app']);
export type InstrumentSource = z.infer<typeof instrumentSourceSchema>;
export type InstrumentConfig = z.output<typeof instrumentConfigSchema>;

export const storageConfigSchema = z
  .strictObject({
    /** `full`: an acknowledged message survives power loss. `normal`: faster, survives crashes. */
    durability: z.enum(['full', 'normal']).default('full'),
    retentionDays: z.number().int().min(1).max(36_500).default(365),
    traceRetentionDays: z.number().int().min(1).max(36_500).default(30),
    /** Orders still open this long after they arrived are cancelled as expired. */
    orderExpiryDays: z.number().int().min(1).max(3_650).default(7),
  })
  .prefault({});

/** An MLLP listener taking ORM^O01 / OML^O21 / OML^O33 from a LIS. */
export const orderSourceConfigSchema = z.strictObject({
  id: instrumentIdSchema,
  type: z.literal('hl7'),
  host: z.string().trim().min(1, 'must not be empty').default('127.0.0.1'),
  port,
  enabled: z.boolean().default(true),
  encoding: z.enum(['latin1', 'utf8']).default('latin1'),
  maxConnections: z.number().int().min(1).max(64).default(4),
  allowedPeers: z.array(z.string().trim().min(1)).default([]),
  keepAliveMs: millis(30_000),
  idleTimeoutMs: millis(0),
  maxMessageBytes: z
    .number()
    .int()
    .min(1_024)
    .max(256 * 1024 * 1024)
    .default(4 * 1024 * 1024),
  maxBufferedBytes: z
    .number()
    .int()
    .min(1_024)
    .max(1024 * 1024 * 1024)
    .default(16 * 1024 * 1024),
});
export type OrderSourceConfig = z.output<typeof orderSourceConfigSchema>;

/** How often a transient delivery failure is retried: without limit, each wait longer. */
export const retrySchema = backoffSchema(300_000);

const destinationCommon = {
  id: instrumentIdSchema,
  name: z.string().trim().min(1, 'must not be empty').max(200).optional(),
  enabled: z.boolean({ error: 'must be true or false' }).default(true),
  retry: retrySchema,
  /** Alarm when the oldest entry still waiting for this destination is older than this. */
  alarmAfterMs: millis(600_000, 1_000),
};

/** ORU^R01 over MLLP; the gateway connects to the LIS. */
export const hl7DestinationSchema = z.strictObject({
  ...destinationCommon,
  type: z.literal('hl7'),
  host: z.string().trim().min(1, 'must not be empty'),
  port,
  connectTimeoutMs: millis(10_000, 100),
  keepAliveMs: millis(30_000),
  reconnect: reconnectSchema,
  /** How long the LIS may take to answer a message before it is sent again. */
  ackTimeoutMs: millis(30_000, 100),
  /** Messages in flight at once (1: each waits for the previous one's ACK). */
  window: z.number().int('must be a whole number').min(1).max(64).default(1),
  /** HL7 instruments: forward the bytes the analyzer sent instead of a rebuilt ORU^R01. */
  passthrough: z.boolean({ error: 'must be true or false' }).default(false),
  encoding: z.enum(['latin1', 'utf8']).default('utf8'),
  /** MSH-5 and MSH-6 of what is sent. */
  receivingApplication: z.string().trim().max(180).optional(),
  receivingFacility: z.string().trim().max(180).optional(),
});

const headerName = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/u, 'must be an HTTP header name');
const envName = z
  .string({ error: 'must be the name of an environment variable' })
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/u, 'must be the name of an environment variable');

/** A POST per message. */
export const httpDestinationSchema = z.strictObject({
  ...destinationCommon,
  type: z.literal('http'),
  url: z
    .string({ error: 'must be a URL' })
    .trim()
    .regex(/^https?:\/\/\S+$/iu, 'must be an http:// or https:// URL'),
  format: z.enum(['json', 'fhir']).default('json'),
  /** A PEM file of the certificate authorities to trust instead of the system's. */
  caFile: z.string().trim().min(1, 'must not be empty').optional(),
  /**
   * Header name → the environment variable holding its value (e.g. `"Authorization":
   * "LIS_AUTH"`), read when the gateway starts; the value itself is never stored.
   */
  headersFromEnv: z.record(headerName, envName).default({}),
  timeoutMs: millis(30_000, 100),
});

/** One file per message, written atomically into a folder. */
export const fileDestinationSchema = z.strictObject({
  ...destinationCommon,
  type: z.literal('file'),
  directory: z.string().trim().min(1, 'must not be empty'),
  format: z.enum(['hl7', 'json', 'csv']).default('hl7'),
});

export const destinationConfigSchema = z.discriminatedUnion(
  'type',
  [hl7DestinationSchema, httpDestinationSchema, fileDestinationSchema],
  { error: 'must have "type" "hl7", "http" or "file"' },
);
export type DestinationConfigInput = z.input<typeof destinationConfigSchema>;
export type DestinationConfig = z.output<typeof destinationConfigSchema>;
export type DestinationType = DestinationConfig['type'];

export const gatewayConfigSchema = z
  .strictObject({
    instruments: z.array(instrumentConfigSchema),
    orderSources: z.array(orderSourceConfigSchema).default([]),
    destinations: z.array(destinationConfigSchema).default([]),
    storage: storageConfigSchema,
  })
  .superRefine((config, ctx) => {
    const destinationIds = new Map<string, number>();
    config.destinations.forEach((destination, index) => {
      const first = destinationIds.get(destination.id);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['destinations', index, 'id'],
          message: `duplicate id "${destination.id}" (also used by destinations[${first}])`,
        });
      } else {
        destinationIds.set(destination.id, index);
      }
    });
    const known =
      config.destinations.length === 0
        ? 'no destinations are configured'
        : `the destinations are ${config.destinations.map((d) => `"${d.id}"`).join(', ')}`;
    config.instruments.forEach((instrument, index) => {
      const check = (ids: readonly string[], path: (string | number)[]) =>
        ids.forEach((id, at) => {
          if (destinationIds.has(id)) return;
          ctx.addIssue({
            code: 'custom',
            path: ['instruments', index, ...path, at],
            message: `names the destination "${id}", which does not exist; ${known}`,
          });
        });
      check(instrument.forwardTo, ['forwardTo']);
      check(instrument.qc.forwardTo, ['qc', 'forwardTo']);
    });
    const seen = new Map<string, number>();
    config.instruments.forEach((instrument, index) => {
      const first = seen.get(instrument.id);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['instruments', index, 'id'],
          message: `duplicate id "${instrument.id}" (also used by instruments[${first}])`,
        });
      } else {
        seen.set(instrument.id, index);
      }
    });
    const listeners = new Map<string, string>();
    const listensOn = (
      list: 'instruments' | 'orderSources',
      index: number,
      l: { host: string; port: number },
    ) => {
      const key = `${l.host}:${l.port}`;
      const first = listeners.get(key);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [list, index, 'port'],
          message: `port ${l.port} on ${l.host} is already used by ${first}`,
        });
      } else {
        listeners.set(key, `${list}[${index}]`);
      }
    };
    const serialPaths = new Map<string, number>();
    config.instruments.forEach((instrument, index) => {
      if (!instrument.enabled) return;
      if (instrument.serial && instrument.transport === 'serial') {
        const first = serialPaths.get(instrument.serial.path);
        if (first !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['instruments', index, 'serial', 'path'],
            message: `the port ${instrument.serial.path} is already used by instruments[${first}]; a serial port can be opened by one link only`,
          });
        } else serialPaths.set(instrument.serial.path, index);
      }
      if (instrument.mode !== 'server' || instrument.port === undefined) return;
      listensOn('instruments', index, { host: instrument.host, port: instrument.port });
    });
    config.orderSources.forEach((source, index) => {
      if (!source.enabled) return;
      const clash = seen.get(source.id);
      if (clash !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['orderSources', index, 'id'],
          message: `duplicate id "${source.id}" (also used by instruments[${clash}])`,
        });
      }
      listensOn('orderSources', index, source);
    });
  });

export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
export type GatewayConfig = z.output<typeof gatewayConfigSchema>;

export interface ConfigProblem {
  /** Where, e.g. `instruments[1].port`. */
  field: string;
  /** Plain words, e.g. `must be between 1 and 65535`. */
  message: string;
}

/** `instruments[1].reconnect.maxDelayMs` from zod's path array. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(top level)';
}

export function describeIssues(error: z.ZodError): ConfigProblem[] {
  return error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((k) => `"${k}"`).join(', ');
      return { field: fieldPath(issue.path), message: `unknown key ${keys}` };
    }
    if (issue.code === 'invalid_key') {
      // A key of a map such as testCodes: the key's own problem, named by the key.
      const reason = issue.issues[0]?.message ?? issue.message;
      return { field: fieldPath(issue.path), message: `the key ${reason}` };
    }
    if (issue.code === 'invalid_value' && 'values' in issue) {
      const allowed = issue.values.map((v) => JSON.stringify(v)).join(' or ');
      return { field: fieldPath(issue.path), message: `must be ${allowed}` };
    }
    return { field: fieldPath(issue.path), message: issue.message };
  });
}

export type ParseConfigResult =
  { ok: true; config: GatewayConfig } | { ok: false; problems: ConfigProblem[] };

export function parseGatewayConfig(input: unknown): ParseConfigResult {
  const parsed = gatewayConfigSchema.safeParse(input);
  if (parsed.success) return { ok: true, config: parsed.data };
  return { ok: false, problems: describeIssues(parsed.error) };
}
