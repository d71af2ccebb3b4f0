/**
 * Write rate and history query times at volume. The suite runs 5,000 messages (it checks that
 * the write path and every query work on a filled store); STORE_VOLUME gives another count and
 * prints the figures, e.g.:
 *   STORE_VOLUME=1000000 npx vitest run test/store/volume.test.ts
 * STORE_VOLUME_FILE keeps the database at that path (reused when it already holds enough messages);
 * STORE_VOLUME_DURABILITY=normal|full (default full).
 */
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, type MessageFilter, type NewMessage, type Store } from '../../src-main/store';
import {
  astmMessage,
  hl7Message,
  patientIdFor,
  random,
  sampleIdFor,
  T0,
  tempDir,
} from './fixtures';

const total = Number(process.env.STORE_VOLUME ?? 5_000);
const durability = process.env.STORE_VOLUME_DURABILITY === 'normal' ? 'normal' : 'full';
const INSTRUMENTS = 20;
const BATCH = 500;

function messageAt(n: number): NewMessage {
  const instrumentId = `an${String(n % INSTRUMENTS).padStart(2, '0')}`;
  const options = { instrumentId, receivedAt: T0 + n * 100 };
  return n % 2 === 0 ? hl7Message(n, options) : astmMessage(n, options);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

describe(`store at volume (${total} messages)`, () => {
  const temp = tempDir();
  const file = process.env.STORE_VOLUME_FILE ?? temp.file();
  let store: Store;

  afterAll(() => {
    store?.close();
    temp.remove();
  });

  it('writes in batches', () => {
    store = openStore({ file, durability });
    const existing = store.counts().messages;
    let elapsed = 0;
    let cpu = 0;
    for (let n = existing; n < total; n += BATCH) {
      const batch: NewMessage[] = [];
      for (let i = n; i < Math.min(total, n + BATCH); i++) batch.push(messageAt(i));
      const started = performance.now();
      const usage = process.cpuUsage();
      store.insertMessages(batch);
      const used = process.cpuUsage(usage);
      cpu += used.user + used.system;
      elapsed += performance.now() - started;
    }
    const written = total - existing;
    if (written > 0) {
      const rate = written / (elapsed / 1000);
      console.log(
        `insertMessages, batches of ${BATCH}, ${durability}: ${written} messages (10 results each) in ` +
          `${(elapsed / 1000).toFixed(1)} s = ${Math.round(rate)} messages/s, ` +
          `${Math.round(rate * 11)} rows/s (message + results), CPU ${Math.round(cpu / written)} µs/message`,
      );
    }
    store.checkpoint('truncate');
    const size = store.fileSize();
    console.log(
      `file: ${(size / 1e6).toFixed(0)} MB for ${total} messages = ` +
        `${(((size / total) * 1e6) / 1e9).toFixed(2)} GB per million`,
    );
    expect(store.counts().messages).toBeGreaterThanOrEqual(total);
  }, 3_600_000);

  it('group-commits enqueued messages', async () => {
    const links = 50;
    const rounds = 200;
    const before = store.metrics();
    const messages = Array.from({ length: links * rounds }, (_, i) => ({
      ...messageAt(total + i),
      receivedAt: T0 + total * 100 + i,
    }));
    const started = performance.now();
    for (let round = 0; round < rounds; round++) {
      const pending: Promise<unknown>[] = [];
      for (let link = 0; link < links; link++) {
        pending.push(store.enqueue(messages[round * links + link]!));
      }
      await Promise.all(pending);
    }
    const seconds = (performance.now() - started) / 1000;
    const after = store.metrics();
    console.log(
      `enqueue, ${links} links at once, ${durability}: ${links * rounds} messages in ` +
        `${seconds.toFixed(2)} s = ${Math.round((links * rounds) / seconds)} messages/s, ` +
        `${after.writeTransactions - before.writeTransactions} transactions`,
    );
  }, 600_000);

  it('answers history queries quickly', () => {
    const rnd = random(42);
    const someMessage = (): number => Math.floor(rnd() * total);
    const cases: [string, () => MessageFilter][] = [
      ['latest page', () => ({})],
      [
        'page by instrument',
        () => ({ instrumentId: `an${String(someMessage() % 20).padStart(2, '0')}` }),
      ],
      ['second page by instrument', () => ({ instrumentId: 'an03', cursor: null })],
      ['older page (from/to)', () => ({ to: T0 + someMessage() * 100 })],
      ['errors only', () => ({ status: 'error' })],
      ['by sample ID', () => ({ sampleId: sampleIdFor(someMessage()) })],
      ['by patient ID', () => ({ patientId: patientIdFor(Math.floor(rnd() * 50_000)) })],
      ['search: sample ID', () => ({ search: sampleIdFor(someMessage()) })],
      ['search: part of a sample ID', () => ({ search: sampleIdFor(someMessage()).slice(3) })],
      ['search: patient ID', () => ({ search: patientIdFor(Math.floor(rnd() * 50_000)) })],
      ['search: frequent word', () => ({ search: 'Glucose' })],
      ['search: surname', () => ({ search: 'kowalski' })],
      ['search: two words', () => ({ search: 'okafor amara' })],
      ['search: test code K', () => ({ search: 'K' })],
      ['search: no match', () => ({ search: `ZQX${someMessage()}` })],
      ['search + instrument', () => ({ search: 'tanaka', instrumentId: 'an07' })],
    ];
    const rows: string[] = [];
    for (const [name, filterFor] of cases) {
      const times: number[] = [];
      let found = 0;
      for (let i = 0; i < 40; i++) {
        let filter = filterFor();
        if (name.startsWith('second page')) {
          filter = { ...filter, cursor: store.queryMessages(filter).nextCursor };
        }
        const started = performance.now();
        found += store.queryMessages(filter).items.length;
        times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      rows.push(
        `${name.padEnd(30)} p50 ${percentile(times, 50).toFixed(1).padStart(6)} ms   ` +
          `p95 ${percentile(times, 95).toFixed(1).padStart(6)} ms   rows/query ${(found / 40).toFixed(1)}`,
      );
    }
    console.log(`history queries over ${store.counts().messages} messages:\n${rows.join('\n')}`);
    if (!process.env.STORE_VOLUME_FILE) expect(fs.existsSync(file)).toBe(true);
  }, 600_000);

  it('purges in small steps', () => {
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      store.purge({ messagesBefore: T0 + total * 10, traceBefore: T0 });
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    console.log(
      `purge of 100 messages: p50 ${percentile(times, 50).toFixed(1)} ms, ` +
        `max ${percentile(times, 100).toFixed(1)} ms`,
    );
  }, 600_000);
});
