import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  ChunkSourceError,
  DestinationClosedError,
  writeChunks,
} from '../../src-main/service/write-chunks';

/** A stream that takes each chunk only when the test says so, with a tiny buffer. */
class HeldWritable extends Writable {
  readonly received: string[] = [];
  private readonly held: ((error?: Error | null) => void)[] = [];

  constructor() {
    super({ highWaterMark: 8, decodeStrings: false });
  }

  override _write(chunk: unknown, _encoding: BufferEncoding, callback: () => void): void {
    this.received.push(String(chunk));
    this.held.push(callback);
  }

  get waiting(): number {
    return this.held.length;
  }

  /** Lets the chunk being written go through. */
  release(error?: Error): void {
    this.held.shift()?.(error ?? null);
  }
}

/** Chunks of 16 characters (twice the stream's buffer), counting how many were produced. */
function counted(total: number) {
  const state = { produced: 0, closed: false };
  function* chunks(): Generator<string> {
    try {
      for (let i = 0; i < total; i++) {
        state.produced++;
        yield `chunk ${String(i).padStart(9, '0')}`;
      }
    } finally {
      state.closed = true;
    }
  }
  return { state, chunks: chunks() };
}

/** Lets pending stream callbacks and promise continuations run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('writing chunks into a stream', () => {
  it('produces the next chunk only once the stream has drained', async () => {
    const out = new HeldWritable();
    const { state, chunks } = counted(50);
    const done = writeChunks(chunks, out);
    for (let step = 0; step < 50; step++) {
      await settle();
      // One chunk at a time: the stream's buffer is full after each, so nothing runs ahead.
      expect(state.produced).toBe(step + 1);
      expect(out.waiting).toBe(1);
      out.release();
    }
    await done;
    expect(out.received).toHaveLength(50);
    expect(out.received[49]).toBe('chunk 000000049');
    expect(out.writableFinished).toBe(true);
  });

  it('tells a chunk that could not be produced from a write that failed', async () => {
    const broken = (function* () {
      yield 'first';
      throw new Error('database is locked');
    })();
    const out = new Writable({ write: (_chunk, _encoding, callback) => callback() });
    const failure = await writeChunks(broken, out).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ChunkSourceError);
    expect((failure as Error).message).toBe('database is locked');
    expect(out.writableEnded).toBe(false);
  });

  it('stops reading when the stream fails, and lets the source clean up', async () => {
    const out = new HeldWritable();
    const { state, chunks } = counted(50);
    const done = writeChunks(chunks, out).catch((error: unknown) => error);
    await settle();
    out.release(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
    const failure = await done;
    expect((failure as NodeJS.ErrnoException).code).toBe('ENOSPC');
    expect(state.produced).toBe(1);
    expect(state.closed).toBe(true);
  });

  it('stops when the stream is closed while waiting for it to drain', async () => {
    const out = new HeldWritable();
    const { state, chunks } = counted(50);
    const done = writeChunks(chunks, out).catch((error: unknown) => error);
    await settle();
    out.destroy();
    expect(await done).toBeInstanceOf(DestinationClosedError);
    expect(state.produced).toBe(1);
    expect(state.closed).toBe(true);
  });
});
