import { existsSync } from 'node:fs';
import { outboxStateSchema, type OutboxState } from '../../../src-shared/outbox';
import { openStore } from '../../store/store';
import {
  RunError,
  UsageError,
  parseCommandArgs,
  requireInt,
  writeLine,
  type Io,
} from '../cli-support';

const HELP = `Usage: lab-gateway outbox --db FILE [--destination ID] [--state S] [--message ID] [--limit N] --json

What the gateway forwards to its destinations (the LIS), oldest first, one JSON object per line.
  --destination  only the entries of this destination
  --state        pending (in delivery, also while retried), delivered, failed, or held (waiting
                 for a destination on hold or no longer configured)
  --message      only the entries of this message (the id of messages --json)
  --limit        at most N entries (default 1000)
"controlId" is the MSH-10 (HL7) or identifier (HTTP, file) the destination receives, the same on
every resend.`;

export async function outboxCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('outbox', argv, {
    db: { type: 'string' },
    destination: { type: 'string' },
    state: { type: 'string' },
    message: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    writeLine(io.stdout, HELP);
    return 0;
  }
  if (positionals.length > 0)
    throw new UsageError(`outbox: unexpected argument "${positionals[0]}"`);
  if (!values.db) throw new UsageError('outbox: --db FILE is required');
  let state: OutboxState | undefined;
  if (values.state !== undefined) {
    const parsed = outboxStateSchema.safeParse(values.state);
    if (!parsed.success) {
      throw new UsageError('outbox: --state must be pending, delivered, failed or held');
    }
    state = parsed.data;
  }
  const limit = requireInt('outbox', 'limit', values.limit, 1000, 1);
  const messageId =
    values.message === undefined
      ? undefined
      : requireInt('outbox', 'message', values.message, 0, 1);
  if (!existsSync(values.db)) throw new RunError(`outbox: no database at "${values.db}"`);
  const store = openStore({ file: values.db, readonly: true });
  try {
    for (const entry of store.listOutbox({
      limit,
      ...(values.destination ? { destinationId: values.destination } : {}),
      ...(state ? { state } : {}),
      ...(messageId !== undefined ? { messageId } : {}),
    })) {
      writeLine(io.stdout, entry);
    }
  } finally {
    store.close();
  }
  return 0;
}
