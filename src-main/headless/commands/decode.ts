import { readFile } from 'node:fs/promises';
import { decodeAstm } from '../../protocols/astm/decode';
import { decodeHl7 } from '../../protocols/hl7/decode';
import { formatError, type ProtocolError } from '../../protocols/errors';
import {
  RunError,
  UsageError,
  parseCommandArgs,
  readAll,
  writeLine,
  type Io,
} from '../cli-support';

const HELP = `Usage: lab-gateway decode astm|hl7 [FILE] [--encoding latin1|utf8]

Reads bytes as they crossed the wire from FILE (stdin when FILE is absent or -) and prints one
JSON object per message, one per line: {"protocol", "results", "errors", ...}.
  --encoding   ASTM text encoding (default latin1); HL7 follows MSH-18 and defaults to latin1.`;

/** Codes meaning "this is not the protocol at all" rather than "a damaged message". */
const NOT_THE_PROTOCOL = new Set(['ASTM_NOT_ASTM', 'HL7_NOT_HL7']);

export async function decodeCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('decode', argv, {
    encoding: { type: 'string' },
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
      ? decodeAstm(bytes, encoding ? { encoding } : {}).messages
      : decodeHl7(bytes, encoding ? { defaultCharset: encoding } : {}).messages;

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
