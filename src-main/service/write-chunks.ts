/**
 * Writes a lazy sequence of chunks into a stream without ever getting ahead of it: whenever the
 * stream's buffer is full, the next chunk is not even produced until it has drained. A file on a
 * slow disk or a browser reading slowly thus holds the export at one chunk in memory, not the
 * whole of it.
 */
import type { Writable } from 'node:stream';

/** Producing a chunk failed (the store could not be read), as opposed to writing it. */
export class ChunkSourceError extends Error {
  override name = 'ChunkSourceError';
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/** The stream went away (a browser closed the connection) before every chunk was written. */
export class DestinationClosedError extends Error {
  override name = 'DestinationClosedError';
  constructor() {
    super('the destination closed before the export was complete');
  }
}

/**
 * Writes every chunk, then ends the stream and waits until it has finished. Rejects with a
 * ChunkSourceError when a chunk cannot be produced, with the stream's own error when writing
 * fails, and with a DestinationClosedError when the stream is closed early. On rejection the
 * stream is left as it is: the caller decides whether to destroy it.
 */
export async function writeChunks(chunks: Iterable<string | Buffer>, out: Writable): Promise<void> {
  const iterator = chunks[Symbol.iterator]();
  let failure: unknown = null;
  // A write error may surface after write() returned; keep it for the next turn of the loop.
  const onError = (error: unknown) => {
    failure ??= error;
  };
  out.on('error', onError);
  try {
    for (;;) {
      if (failure !== null) throw failure;
      if (out.destroyed || out.writableEnded) throw new DestinationClosedError();
      let step: IteratorResult<string | Buffer>;
      try {
        step = iterator.next();
      } catch (error) {
        throw new ChunkSourceError(error);
      }
      if (step.done) break;
      if (!out.write(step.value)) await settled(out, 'drain');
    }
    out.end();
    await settled(out, 'finish');
  } catch (error) {
    iterator.return?.();
    throw error;
  } finally {
    out.off('error', onError);
  }
}

/** Resolves on `event`; rejects when the stream fails or closes first. */
function settled(out: Writable, event: 'drain' | 'finish'): Promise<void> {
  if (event === 'finish' && out.writableFinished) return Promise.resolve();
  if (out.errored) return Promise.reject(out.errored);
  if (out.destroyed) return Promise.reject(new DestinationClosedError());
  return new Promise((resolve, reject) => {
    const done = (error?: unknown) => {
      out.off(event, onEvent);
      out.off('error', onError);
      out.off('close', onClose);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onEvent = () => done();
    const onError = (error: unknown) => done(error);
    const onClose = () => done(new DestinationClosedError());
    out.on(event, onEvent);
    out.on('error', onError);
    out.on('close', onClose);
  });
}
