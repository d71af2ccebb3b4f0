/**
 * A resend asked for while the outcome of the previous send is still waiting in the worker's
 * batch of outcomes (recorded some milliseconds later) must still send the message again: the
 * pending outcome belongs to the earlier send and may not mark the resend delivered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { destinationConfigSchema } from '../../src-shared/config';
import { Forwarder } from '../../src-main/forwarding/forwarder';
import type { Payload } from '../../src-main/forwarding/payloads';
import type { SendOutcome, Transport } from '../../src-main/forwarding/transports';
import { systemClock } from '../../src-main/system-clock';
import { astmMessage, storeSandbox } from '../store/fixtures';
import { waitFor } from '../support/ports';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A transport whose every send waits until the test answers it. */
function controlledTransport() {
  const sends: { payload: Payload; answer: (outcome: SendOutcome) => void }[] = [];
  const transport: Transport = {
    window: 1,
    notReady: null,
    start() {},
    send: (payload) => new Promise((resolve) => sends.push({ payload, answer: resolve })),
    close: async () => {},
  };
  return { transport, sends };
}

function setup() {
  const sandbox = storeSandbox();
  const store = sandbox.open();
  const { transport, sends } = controlledTransport();
  const forwarder = new Forwarder({
    store,
    clock: systemClock,
    instrument: () => null,
    log: () => {},
    transport: () => transport,
  });
  forwarder.start([destinationConfigSchema.parse({ id: 'out', type: 'file', directory: '/x' })]);
  cleanups.push(() => sandbox.cleanup());
  cleanups.push(() => forwarder.close());
  return { store, forwarder, sends };
}

const delivered: SendOutcome = { kind: 'delivered', answer: 'ok' };
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('a resend while the previous outcome is not recorded yet', () => {
  it('is sent again, and recorded delivered only once that send is answered', async () => {
    const { store, forwarder, sends } = setup();
    const { id } = await store.enqueue({
      ...astmMessage(1),
      outbox: [{ destinationId: 'out', scope: 'patient' }],
    });
    await waitFor(() => sends.length === 1, 'the first send');
    sends[0]!.answer(delivered);
    await turn(); // settled: the outcome waits in the batch, the entry is pending in the database
    expect(store.listOutbox({ state: 'delivered' })).toHaveLength(0);

    expect(forwarder.resend(id, 'out')).toBe(1);
    await waitFor(() => sends.length === 2, 'the message sent again', 3_000);
    expect(sends[1]!.payload.controlId).toBe(sends[0]!.payload.controlId);
    forwarder.flush();
    expect(store.listOutbox({ state: 'delivered' })).toHaveLength(0);

    sends[1]!.answer(delivered);
    await turn();
    forwarder.flush();
    expect(store.listOutbox({ state: 'delivered' })).toHaveLength(1);
    expect(store.outboxAttempts(id, 'out').map((a) => a.outcome)).toEqual([
      'delivered',
      'delivered',
    ]);
  });

  it('Retry failed sends a failure again even when its outcome is still in the batch', async () => {
    const { store, forwarder, sends } = setup();
    const { id } = await store.enqueue({
      ...astmMessage(1),
      outbox: [{ destinationId: 'out', scope: 'patient' }],
    });
    await waitFor(() => sends.length === 1, 'the first send');
    sends[0]!.answer({ kind: 'failed', answer: 'AR', error: 'rejected' });
    await turn();
    expect(forwarder.retryFailed('out')).toBe(1);
    await waitFor(() => sends.length === 2, 'the failed message sent again', 3_000);
    sends[1]!.answer(delivered);
    await turn();
    forwarder.flush();
    expect(store.outboxAttempts(id, 'out').map((a) => a.outcome)).toEqual(['failed', 'delivered']);
  });
});
