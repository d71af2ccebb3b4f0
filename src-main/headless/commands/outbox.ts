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

const RESEND_HELP = `Usage: lab-gateway resend --db FILE --message ID [--destination ID]
       lab-gateway resend --db FILE --failed [--destination ID]

Sends a stored message to its destinations again (or only to one), or every failed message
(of one destination). It goes with the same control ID as before, so the LIS can recognise it.
A running gateway on the same database sends it within 2 s.`;

export async function resendCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('resend', argv, {
    db: { type: 'string' },
    message: { type: 'string' },
    destination: { type: 'string' },
    failed: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    writeLine(io.stdout, RESEND_HELP);
    return 0;
  }
  if (positionals.length > 0)
    throw new UsageError(`resend: unexpected argument "${positionals[0]}"`);
  if (!values.db) throw new UsageError('resend: --db FILE is required');
  if ((values.message === undefined) === (values.failed !== true)) {
    throw new UsageError('resend: give either --message ID or --failed');
  }
  const messageId =
    values.message === undefined ? null : requireInt('resend', 'message', values.message, 0, 1);
  if (!existsSync(values.db)) throw new RunError(`resend: no database at "${values.db}"`);
  const store = openStore({ file: values.db });
  try {
    const destination = values.destination ?? null;
    const count =
      messageId === null
        ? store.resendFailed(destination)
        : store.resendMessage(messageId, destination);
    writeLine(io.stdout, { resent: count });
    if (count === 0 && messageId !== null) {
      throw new RunError(
        `resend: message ${messageId} has no outbox entry${destination ? ` for the destination "${destination}"` : ''}`,
      );
    }
  } finally {
    store.close();
  }
  return 0;
}

export function holdCommand(name: 'hold' | 'release') {
  const help = `Usage: lab-gateway ${name} --db FILE --destination ID

${name === 'hold' ? 'Puts a destination on hold (LIS maintenance): nothing is sent to it until it is released; its messages wait, held.' : 'Releases a destination put on hold: its waiting messages are delivered, oldest first.'}
A running gateway on the same database follows within 2 s.`;
  return async (argv: string[], io: Io): Promise<number> => {
    const { values, positionals } = parseCommandArgs(name, argv, {
      db: { type: 'string' },
      destination: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      writeLine(io.stdout, help);
      return 0;
    }
    if (positionals.length > 0)
      throw new UsageError(`${name}: unexpected argument "${positionals[0]}"`);
    if (!values.db) throw new UsageError(`${name}: --db FILE is required`);
    if (!values.destination) throw new UsageError(`${name}: --destination ID is required`);
    if (!existsSync(values.db)) throw new RunError(`${name}: no database at "${values.db}"`);
    const store = openStore({ file: values.db });
    try {
      if (!store.setDestinationHeld(values.destination, name === 'hold')) {
        const known = store.listDestinations().map((d) => `"${d.id}"`);
        throw new RunError(
          `${name}: no destination "${values.destination}"; ${known.length > 0 ? `the destinations are ${known.join(', ')}` : 'the gateway has run with no destinations'}`,
        );
      }
      writeLine(io.stdout, { destinationId: values.destination, held: name === 'hold' });
    } finally {
      store.close();
    }
    return 0;
  };
}
