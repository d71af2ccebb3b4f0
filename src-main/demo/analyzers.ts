/**
 * The demo's analyzers: unlike `gateway simulate`, they run until stopped and survive the link
 * being dropped (Disconnect, Reconnect, a restart of the link), the way a real analyzer does.
 */
import net from 'node:net';
import { openChannel, type AnalyzerChannel } from '../simulator/channels';
import { simulateSample } from '../simulator/content';
import { systemClock } from '../system-clock';

export interface DemoAnalyzerOptions {
  host: string;
  /** Connect mode: the gateway's port. Listen mode: 0 picks a free one. */
  port: number;
  /** One message per period, when the previous one has been answered. */
  intervalMs: number;
  /** Results per message. */
  results: number;
  /** Prefix of sample IDs, so runs and analyzers never collide. */
  idPrefix: string;
  /** Connect mode: wait this long before connecting again after the link dropped. */
  retryMs?: number;
  random?: () => number;
}

export interface DemoAnalyzer {
  /** The port it listens on (listen mode) or connects to. */
  readonly port: number;
  /** Messages acknowledged so far. */
  readonly acked: number;
  /** Closes every socket and timer; resolves once they are closed. */
  stop(): Promise<void>;
}

function closeSocket(socket: net.Socket | null): Promise<void> {
  if (!socket || socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    socket.once('close', () => resolve());
    socket.destroy();
  });
}

/** An ASTM analyzer that connects to the gateway's server link and reconnects when dropped. */
export function startAstmAnalyzer(options: DemoAnalyzerOptions): DemoAnalyzer {
  const random = options.random ?? Math.random;
  let socket: net.Socket | null = null;
  let channel: AnalyzerChannel | null = null;
  let stopped = false;
  let seq = 0;
  let acked = 0;
  let retry: NodeJS.Timeout | null = null;

  const connect = (): void => {
    retry = null;
    if (stopped) return;
    const current = net.connect({ host: options.host, port: options.port });
    socket = current;
    current.on('error', () => {
      // 'close' follows and schedules the next attempt.
    });
    current.on('connect', () => {
      channel = openChannel('astm', current, { clock: systemClock }, { acked: () => acked++ });
      sendNext();
    });
    current.on('close', () => {
      if (socket === current) {
        channel = null;
        socket = null;
      }
      if (!stopped) retry = setTimeout(connect, options.retryMs ?? 1_000);
    });
  };

  const sendNext = (): void => {
    if (!channel?.idle) return;
    const sampleId = `${options.idPrefix}${String(++seq).padStart(5, '0')}`;
    const at = Date.now();
    channel.send(simulateSample(sampleId, options.results, at, random), sampleId, at);
  };

  const ticker = setInterval(sendNext, options.intervalMs);
  connect();

  return {
    port: options.port,
    get acked() {
      return acked;
    },
    stop: async () => {
      stopped = true;
      clearInterval(ticker);
      if (retry) clearTimeout(retry);
      channel?.close();
      await closeSocket(socket);
    },
  };
}

/**
 * An HL7 analyzer that listens for the gateway's client link. It serves one connection at a
 * time; a new one replaces the old, as after the gateway reconnects.
 */
export async function startHl7Analyzer(options: DemoAnalyzerOptions): Promise<DemoAnalyzer> {
  const random = options.random ?? Math.random;
  let current: { socket: net.Socket; channel: AnalyzerChannel } | null = null;
  const sockets = new Set<net.Socket>();
  let seq = 0;
  let acked = 0;

  const server = net.createServer((socket) => {
    sockets.add(socket);
    if (current) current.socket.destroy();
    const channel = openChannel(
      'hl7',
      socket,
      { clock: systemClock, ackTimeoutMs: Math.max(10_000, options.intervalMs * 2) },
      { acked: () => acked++ },
    );
    const connection = { socket, channel };
    current = connection;
    socket.on('close', () => {
      sockets.delete(socket);
      if (current === connection) current = null;
    });
    sendNext();
  });

  const sendNext = (): void => {
    if (!current?.channel.idle) return;
    const n = String(++seq).padStart(5, '0');
    const at = Date.now();
    const sample = simulateSample(`${options.idPrefix}${n}`, options.results, at, random);
    current.channel.send(sample, `${options.idPrefix}C${n}`, at);
  };

  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : options.port);
    });
  });
  const ticker = setInterval(sendNext, options.intervalMs);

  return {
    port,
    get acked() {
      return acked;
    },
    stop: async () => {
      clearInterval(ticker);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...sockets].map((socket) => closeSocket(socket)));
      await closed;
    },
  };
}
