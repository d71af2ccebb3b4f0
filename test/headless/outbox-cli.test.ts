import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { outboxEntrySchema } from '../../src-shared/outbox';
import { openStore } from '../../src-main/store';
import { hl7Message } from '../store/fixtures';
import { cli } from '../support/cli';
import { tempDir } from '../support/temp';

const temps: (() => void)[] = [];
afterEach(() => temps.splice(0).forEach((remove) => remove()));

function database(): string {
  const temp = tempDir();
  temps.push(temp.remove);
  const file = path.join(temp.dir, 'gw.sqlite');
  const store = openStore({ file });
  store.upsertDestination('lis', { id: 'lis', type: 'hl7', host: '127.0.0.1', port: 1 }, 'file');
  store.insertMessages(
    [1, 2, 3].map((n) => ({
      ...hl7Message(n),
      outbox: [
        { destinationId: 'lis', scope: 'patient' as const },
        { destinationId: 'gone', scope: 'patient' as const },
      ],
    })),
  );
  store.close();
  return file;
}

describe('outbox on the command line', () => {
  it('prints one contract object per entry, oldest first, filtered by destination and state', async () => {
    const file = database();
    const all = await cli(['outbox', '--db', file, '--json']);
    expect(all.code).toBe(0);
    const entries = all.lines.map((line) => outboxEntrySchema.strict().parse(JSON.parse(line)));
    expect(entries.map((e) => [e.messageId, e.destinationId, e.state])).toEqual([
      [1, 'lis', 'pending'],
      [1, 'gone', 'held'],
      [2, 'lis', 'pending'],
      [2, 'gone', 'held'],
      [3, 'lis', 'pending'],
      [3, 'gone', 'held'],
    ]);
    expect(entries[0]).toMatchObject({ attempts: 0, lastAttemptAt: null, error: null });
    const lis = await cli(['outbox', '--db', file, '--destination', 'lis', '--limit', '2']);
    expect(lis.lines.map((l) => (JSON.parse(l) as { messageId: number }).messageId)).toEqual([
      1, 2,
    ]);
    const held = await cli(['outbox', '--db', file, '--state', 'held', '--json']);
    expect(held.lines).toHaveLength(3);
    const again = await cli(['outbox', '--db', file, '--json']);
    expect(again.out).toBe(all.out);
  });

  it('refuses a bad state or a missing database in plain words', async () => {
    const file = database();
    const state = await cli(['outbox', '--db', file, '--state', 'lost']);
    expect(state.code).toBe(2);
    expect(state.err).toContain('--state must be pending, delivered, failed or held');
    const missing = await cli(['outbox', '--db', path.join(path.dirname(file), 'no.sqlite')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('no database at');
  });
});
