/**
 * Baselines for the gateway benchmark: plain TCP servers that answer like the gateway does but
 * do nothing else. What a send-and-wait sender gets from them is the most any server on this
 * machine could give it: over the loopback alone, and with one fdatasync before each answer.
 */
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import net from 'node:net';
import { ACK, ENQ, STX } from '../src-main/protocols/astm/control';
import { FS } from '../src-main/protocols/hl7/mllp';

export interface PingPongServer {
  port: number;
  close(): Promise<void>;
}

export type Durability =
  /** Answer at once. */
  | { kind: 'none' }
  /** Append what arrives to `file`; one fdatasync per completed message, then its answer. */
  | { kind: 'each'; file: string }
  /**
   * Append what arrives to `file`; one fdatasync for all the messages completed in one turn of
   * the event loop (on every connection), then their answers: the group commit ceiling.
   */
  | { kind: 'group'; file: string };

function count(chunk: Buffer, byte: number): number {
  let n = 0;
  for (let at = chunk.indexOf(byte); at >= 0; at = chunk.indexOf(byte, at + 1)) n++;
  return n;
}

async function listen(
  onSocket: (socket: net.Socket) => void,
  cleanup: () => void,
): Promise<PingPongServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    onSocket(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => {
          cleanup();
          resolve();
        });
      }),
  };
}

/** Answers every MLLP block (counted by its `1C`) with `answer`. */
export function mllpPingPong(answer: Buffer, durability: Durability): Promise<PingPongServer> {
  if (durability.kind === 'none') {
    return listen(
      (socket) =>
        socket.on('data', (chunk: Buffer) => {
          for (let n = count(chunk, FS); n > 0; n--) socket.write(answer);
        }),
      () => undefined,
    );
  }
  const fd = openSync(durability.file, 'a');
  if (durability.kind === 'each') {
    return listen(
      (socket) =>
        socket.on('data', (chunk: Buffer) => {
          writeSync(fd, chunk);
          for (let n = count(chunk, FS); n > 0; n--) {
            fdatasyncSync(fd);
            socket.write(answer);
          }
        }),
      () => closeSync(fd),
    );
  }
  const waiting: { socket: net.Socket; blocks: number }[] = [];
  let scheduled = false;
  let closed = false;
  const commit = (): void => {
    scheduled = false;
    if (closed) return;
    fdatasyncSync(fd);
    for (const { socket, blocks } of waiting.splice(0)) {
      for (let n = blocks; n > 0; n--) socket.write(answer);
    }
  };
  return listen(
    (socket) =>
      socket.on('data', (chunk: Buffer) => {
        writeSync(fd, chunk);
        const blocks = count(chunk, FS);
        if (blocks === 0) return;
        waiting.push({ socket, blocks });
        if (!scheduled) {
          scheduled = true;
          setImmediate(commit);
        }
      }),
    () => {
      closed = true;
      closeSync(fd);
    },
  );
}

/** Answers every ENQ and every frame (counted by its STX) with ACK, as an E1381 receiver does. */
export function astmPingPong(): Promise<PingPongServer> {
  return listen(
    (socket) =>
      socket.on('data', (chunk: Buffer) => {
        const n = count(chunk, ENQ) + count(chunk, STX);
        if (n > 0) socket.write(Buffer.alloc(n, ACK));
      }),
    () => undefined,
  );
}
