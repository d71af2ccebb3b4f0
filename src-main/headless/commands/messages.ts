import { existsSync } from 'node:fs';
import { openStore } from '../../store/store';
import {
  RunError,
  UsageError,
  parseCommandArgs,
  requireInt,
  writeLine,
  type Io,
} from '../cli-support';

const HELP = `Usage: lab-gateway messages --db FILE [--instrument ID] [--search TEXT] [--limit N] --json

Prints the stored messages, newest first, one JSON object per line.
  --instrument   only this instrument's messages
  --search       matches sample IDs, patient IDs, test codes and message text
  --limit        at most N messages (default: all)`;

export async function messagesCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('messages', argv, {
    db: { type: 'string' },
    instrument: { type: 'string' },
    search: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    writeLine(io.stdout, HELP);
    return 0;
  }
  if (positionals.length > 0) {
    throw new UsageError(`messages: unexpected argument "${positionals[0]}"`);
  }
  if (!values.db) throw new UsageError('messages: --db FILE is required');
  if (!values.json) throw new UsageError('messages: --json is required (the only output format)');
  const limit =
    values.limit === undefined ? undefined : requireInt('messages', 'limit', values.limit, 0, 1);
  if (!existsSync(values.db)) throw new RunError(`messages: no database at "${values.db}"`);

  const store = openStore({ file: values.db, readonly: true });
  try {
    for (const message of store.messagesForCli({
      ...(values.instrument ? { instrumentId: values.instrument } : {}),
      ...(values.search ? { search: values.search } : {}),
      ...(limit !== undefined ? { limit } : {}),
    })) {
      writeLine(io.stdout, message);
    }
  } finally {
    store.close();
  }
  return 0;
}
