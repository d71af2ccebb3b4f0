/**
 * `node --import tsx bench/servers/node-hl7-server.ts PORT`: node-hl7-server answering every
 * message AA, storing nothing. Prints `listening PORT` once it accepts connections.
 *
 * node-hl7-server 2.5.0 (the latest release) never clears its per-connection buffer: on a
 * connection kept open, the n-th message is parsed again together with every earlier one and
 * answered n times (upstream issue Bugs5382/node-hl7-server#102, fixed on its main branch only).
 * No analyzer could use it that way, and a send-and-wait client would read the extra ACKs as
 * answers to later messages. So the library's own connection handler is given each complete
 * MLLP block as a connection of its own: every message still goes through its parsing, its
 * handler and its ACK builder, exactly once.
 */
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { Server, type Inbound } from 'node-hl7-server';

const END = Buffer.from([0x1c, 0x0d]);

/** What the library's connection handler uses of a socket, writing to the real one. */
class OneMessageSocket extends EventEmitter {
  constructor(private readonly socket: net.Socket) {
    super();
  }
  setNoDelay(): this {
    return this;
  }
  setEncoding(): this {
    return this;
  }
  cork(): void {
    this.socket.cork();
  }
  uncork(): void {
    this.socket.uncork();
  }
  write(data: Buffer | string): boolean {
    return this.socket.write(data);
  }
  destroy(): this {
    return this;
  }
}

interface HandlerAccess {
  _onTcpClientConnected(socket: net.Socket | OneMessageSocket): void;
}

const port = Number(process.argv[2] ?? '0');
const server = new Server({ bindAddress: '127.0.0.1' });
const inbound: Inbound = server.createInbound({ port }, async (_req, res) => {
  await res.sendResponse('AA');
});
const access = inbound as unknown as HandlerAccess;
const libraryHandler = access._onTcpClientConnected.bind(inbound);
// The listener calls `this._onTcpClientConnected(socket)` for every accepted connection.
access._onTcpClientConnected = (socket) => {
  const real = socket as net.Socket;
  real.setNoDelay(true);
  let pending: Buffer = Buffer.alloc(0);
  real.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    for (let end = pending.indexOf(END); end >= 0; end = pending.indexOf(END)) {
      const block = pending.subarray(0, end + END.length);
      pending = pending.subarray(end + END.length);
      const one = new OneMessageSocket(real);
      libraryHandler(one);
      one.emit('data', block);
      one.emit('close', false);
    }
  });
  real.on('error', () => real.destroy());
};
inbound.on('listen', () => process.stdout.write(`listening ${port}\n`));
inbound.on('error', (error: Error) => {
  process.stderr.write(`node-hl7-server: ${error.message}\n`);
  process.exit(1);
});
