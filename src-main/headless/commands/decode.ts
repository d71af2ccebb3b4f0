import { readFile } from 'node:fs/promises';
import { PROFILE_NAMES, profileNamed, type InstrumentProfile } from '../../../src-shared/profiles';
import { explainAstm, explainStoredText, type ExplainedReading } from '../../profiles/read-message';
import { decodeAstm } from '../../protocols/astm/decode';
import { decodeHl7, type DecodedHl7Message } from '../../protocols/hl7/decode';
import { formatError, type ProtocolError } from '../../protocols/errors';
import {
  RunError,
  UsageError,
  parseCommandArgs,
  readAll,
  writeLine,
  type Io,
} from '../cli-support';

const HELP = `Usage: lab-gateway decode astm|hl7 [FILE] [--encoding latin1|utf8] [--profile NAME]

Reads bytes as they crossed the wire from FILE (stdin when FILE is absent or -) and prints one
JSON object per message, one per line: {"protocol", "results", "errors", ...}.
  --encoding   ASTM text encoding (default latin1); HL7 follows MSH-18 and defaults to latin1.
  --profile    read the results with a built-in instrument profile, as an instrument whose
               "profile" names it does; adds "profile" and "provenance" (where each value was
               read, e.g. R-4.2). Profiles: ${PROFILE_NAMES.join(', ')}`;

/** Codes meaning "this is not the protocol at all" rather than "a damaged message". */
const NOT_THE_PROTOCOL = new Set(['ASTM_NOT_ASTM', 'HL7_NOT_HL7']);

export async function decodeCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('decode', argv, {
    encoding: { type: 'string' },
    profile: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    writeLine(io.stdout, HELP);
    return 0;
  }
  const [protocol, file, ...extra] = positionals;
  if (protocol !== 'astm' && protocol !== 'hl7') {
    throw new UsageError(`decode: the protocol must be "astm" or "hl7"\n\n${HELP}`);
  }
  if (extra.length > 0)
    throw new UsageError(`decode: one FILE at most (got ${positionals.length - 1})`);
  const encoding = values.encoding;
  if (encoding !== undefined && encoding !== 'latin1' && encoding !== 'utf8') {
    throw new UsageError('decode: --encoding must be "latin1" or "utf8"');
  }
  const profile = values.profile === undefined ? null : profileFor(values.profile, protocol);

  let bytes: Buffer;
  if (file === undefined || file === '-') {
    bytes = await readAll(io.stdin);
  } else {
    try {
      bytes = await readFile(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : String(error);
      throw new RunError(`decode: cannot read "${file}": ${why}`);
    }
  }

  const messages =
    protocol === 'astm'
      ? decodeAstm(bytes, encoding ? { encoding } : {}).messages.map((message) =>
          profile ? withReading(message, explainAstm([message], profile), profile) : message,
        )
      : decodeHl7(bytes, encoding ? { defaultCharset: encoding } : {}).messages.map((message) =>
          profile
            ? withReading(message, explainStoredText('hl7', hl7Text(message), profile), profile)
            : message,
        );

  let fatal = messages.length === 0;
  for (const [index, message] of messages.entries()) {
    writeLine(io.stdout, message);
    for (const error of message.errors as ProtocolError[]) {
      if (NOT_THE_PROTOCOL.has(error.code)) fatal = true;
      io.stderr.write(`message ${index + 1}: ${formatError(error)}\n`);
    }
  }
  if (messages.length === 0) {
    io.stderr.write(`decode: no ${protocol.toUpperCase()} message found in the input\n`);
  }
  return fatal ? 1 : 0;
}

function profileFor(name: string, protocol: 'astm' | 'hl7'): InstrumentProfile {
  const profile = profileNamed(name);
  if (profile === null) {
    throw new UsageError(
      `decode: unknown profile "${name}"; the built-in profiles are ${PROFILE_NAMES.join(', ')}`,
    );
  }
  if (profile.protocol !== protocol) {
    throw new UsageError(
      `decode: "${name}" (${profile.title}) is a profile for ${profile.protocol.toUpperCase()} messages, not ${protocol.toUpperCase()}`,
    );
  }
  return profile;
}

/** The message with its results as the profile reads them, where each value came from, notes. */
function withReading<M extends { errors: readonly unknown[] }>(
  message: M,
  read: ExplainedReading,
  profile: InstrumentProfile,
) {
  return {
    ...message,
    profile: profile.name,
    results: read.results,
    provenance: read.sources,
    errors: [...message.errors, ...read.notes],
  };
}

/** The segments of a decoded HL7 message written back as they were on the wire. */
function hl7Text(message: DecodedHl7Message): string {
  const separator = message.segments.find((s) => s.name === 'MSH')?.fields[0] ?? '|';
  return message.segments
    .map((segment) =>
      segment.name === 'MSH'
        ? `MSH${separator}${segment.fields.slice(1).join(separator)}`
        : [segment.name, ...segment.fields].join(separator),
    )
    .join('\r');
}
