/**
 * A LIS outage of many minutes on a fake clock: retries back off with jitter up to the cap and
 * never give up; once the LIS is back everything is delivered in the order it was stored, per
 * instrument. Hold and release; the oldest-pending alarm.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { destinationConfigSchema } from '../../src-shared/config';
import { Forwarder } from '../../src-main/forwarding/forwarder';
import type { Payload } from '../../src-main/forwarding/payloads';
import type { SendOutcome, Transport } from '../../src-main/forwarding/transports';
import { astmMessage, hl7Message, storeSandbox } from '../store/fixtures';
import { FakeClock } from '../support/fake-clock';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A LIS reached without sockets: up or down, recording what it was sent and when. */
class FakeLis implements Transport {
  readonly window = 1;
  readonly notReady = null;
  up = false;
  readonly attempts: { at: number; controlId: string; text: string }[] = [];
  readonly delivered: string[] = [];
  constructor(private readonly clock: FakeClock) {}
  start(): void {}
  send(payload: Payload): Promise<SendOutcome> {
    this.attempts.push({ at: this.clock.now(), controlId: payload.controlId, text: payload.text });
    if (!this.up) {
      return Promise.resolve({ kind: 'retry', answer: null, error: 'connection refused' });
    }
    this.delivered.push(payload.controlId);
    return Promise.resolve({ kind: 'delivered', answer: 'MSA|AA' });
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Lets promise callbacks and setImmediate work run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

async function advance(clock: FakeClock, ms: number, step = 1_000): Promise<void> {
  for (let done = 0; done < ms; done += step) {
    clock.advance(Math.min(step, ms - done));
    await settle();
  }
}

function setup(alarmAfterMs = 600_000) {
  const clock = new FakeClock();
  const sandbox = storeSandbox();
  const store = sandbox.open();
  const lis = new FakeLis(clock);
  const logs: string[] = [];
  let random = 0;
  const forwarder = new Forwarder({
    store,
    clock,
    // Deterministic jitter: alternately the low and the high end of ±20 %.
    random: () => (random++ % 2 === 0 ? 0 : 0.999),
    instrument: () => null,
    log: (level, kind, code, message) => logs.push(`${level} ${kind} ${code ?? '-'} ${message}`),
    transport: () => lis,
    alarmCheckMs: 15_000,
  });
  forwarder.start([
    destinationConfigSchema.parse({
      id: 'lis',
      type: 'hl7',
      host: '127.0.0.1',
      port: 1,
      alarmAfterMs,
    }),
  ]);
  cleanups.push(() => sandbox.cleanup());
  cleanups.push(() => forwarder.close());
  return { clock, store, lis, forwarder, logs };
}

describe('a LIS outage of many minutes', () => {
  it('retries 1 s → 5 min with jitter, without limit, then delivers everything in order', async () => {
    const { clock, store, lis, forwarder, logs } = setup();
    const stored: number[] = [];
    for (let n = 1; n <= 6; n++) {
      const message = n % 2 ? astmMessage(n, { results: 1 }) : hl7Message(n, { results: 1 });
      const outcome = await store.enqueue({
        ...message,
        receivedAt: clock.now(),
        outbox: [{ destinationId: 'lis', scope: 'patient' }],
      });
      stored.push(outcome.id);
    }
    await settle();
    // 45 minutes without a LIS.
    await advance(clock, 45 * 60_000);
    const gaps = lis.attempts.slice(1).map((a, i) => a.at - lis.attempts[i]!.at);
    expect(lis.attempts.every((a) => a.controlId === lis.attempts[0]!.controlId)).toBe(true);
    // Exponential from 1 s doubling, each within ±20 % of its step, capped at 5 min (a failure
    // is seen up to one clock step after the attempt, hence the 1 s of slack).
    gaps.forEach((gap, n) => {
      const step = Math.min(1_000 * 2 ** n, 300_000);
      expect(gap).toBeGreaterThanOrEqual(Math.floor(step * 0.8));
      expect(gap).toBeLessThanOrEqual(Math.min(Math.ceil(step * 1.2), 300_000) + 1_000);
    });
    expect(gaps.slice(-3).every((g) => g >= 240_000)).toBe(true);
    expect(lis.attempts.length).toBeGreaterThan(12);
    forwarder.flush();
    expect(store.listOutbox({ state: 'pending' })).toHaveLength(6);
    expect(store.listOutbox()[0]!.attempts).toBe(lis.attempts.length);
    expect(store.listOutbox()[0]!.error).toBe('connection refused');
    // One plain line when it started failing, not one per retry.
    expect(logs.filter((l) => l.includes('FORWARD_RETRY'))).toHaveLength(1);
    // The alarm: the oldest waiting entry is older than 10 minutes.
    expect(logs.some((l) => l.startsWith('warn alarm FORWARD_BACKLOG'))).toBe(true);
    expect(forwarder.statuses(0)[0]).toMatchObject({ state: 'retrying', alarm: true, pending: 6 });

    lis.up = true;
    await advance(clock, 6 * 60_000);
    forwarder.flush();
    expect(lis.delivered).toEqual(store.listOutbox().map((e) => e.controlId));
    expect(store.listOutbox({ state: 'delivered' }).map((e) => e.messageId)).toEqual(stored);
    expect(logs.some((l) => l.includes('delivering again'))).toBe(true);
    expect(logs.some((l) => l.startsWith('info alarm FORWARD_BACKLOG_CLEARED'))).toBe(true);
  });

  it('hold keeps everything waiting, held; release delivers it', async () => {
    const { clock, store, lis, forwarder } = setup();
    lis.up = true;
    forwarder.hold('lis');
    for (let n = 1; n <= 3; n++) {
      await store.enqueue({
        ...hl7Message(n, { results: 1 }),
        outbox: [{ destinationId: 'lis', scope: 'patient' }],
      });
    }
    await advance(clock, 10_000);
    expect(lis.attempts).toEqual([]);
    expect(store.listOutbox({ state: 'held' })).toHaveLength(3);
    expect(forwarder.statuses(0)[0]).toMatchObject({ state: 'held', heldEntries: 3, pending: 0 });
    forwarder.release('lis');
    await advance(clock, 2_000);
    forwarder.flush();
    expect(store.listOutbox({ state: 'delivered' })).toHaveLength(3);
  });

  it('a hold or release written by another program is followed within 2 s', async () => {
    const { clock, store, lis, forwarder } = setup();
    lis.up = true;
    store.setDestinationHeld('lis', true);
    await advance(clock, 2_000, 500);
    expect(forwarder.statuses(0)[0]!.state).toBe('held');
    await store.enqueue({ ...hl7Message(1), outbox: [{ destinationId: 'lis', scope: 'patient' }] });
    await advance(clock, 2_000, 500);
    expect(lis.attempts).toEqual([]);
    store.setDestinationHeld('lis', false);
    await advance(clock, 2_000, 500);
    forwarder.flush();
    expect(store.listOutbox({ state: 'delivered' })).toHaveLength(1);
  });

  it('a destination removed while entries wait keeps them held and visible; they go once it is back', async () => {
    const { clock, store, lis, forwarder } = setup();
    lis.up = false;
    await store.enqueue({ ...hl7Message(1), outbox: [{ destinationId: 'lis', scope: 'patient' }] });
    await advance(clock, 2_000);
    const config = forwarder.config('lis')!;
    await forwarder.remove('lis');
    expect(store.listOutbox()[0]!.state).toBe('held');
    expect(forwarder.statuses(0)).toEqual([
      expect.objectContaining({ id: 'lis', state: 'removed', heldEntries: 1 }),
    ]);
    lis.up = true;
    forwarder.add(config);
    await advance(clock, 2_000);
    forwarder.flush();
    expect(store.listOutbox()[0]!.state).toBe('delivered');
  });
});
