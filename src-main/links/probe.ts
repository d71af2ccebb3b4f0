import net from 'node:net';

export interface ProbeOutcome {
  ok: boolean;
  message: string;
  elapsedMs: number;
}

/** Tries a TCP connection to host:port and closes it: the instrument editor's connection test. */
export function probeTcp(host: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean, message: string) => {
      socket.destroy();
      resolve({ ok, message, elapsedMs: Math.round(performance.now() - started) });
    };
    socket.setTimeout(timeoutMs, () =>
      done(
        false,
        `no answer from ${host}:${port} within ${timeoutMs} ms (is the analyzer on and reachable?)`,
      ),
    );
    socket.once('connect', () => done(true, `${host}:${port} accepted a connection`));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      const why =
        error.code === 'ECONNREFUSED'
          ? 'nothing is listening on that port (connection refused)'
          : error.code === 'ENOTFOUND'
            ? 'the host name is unknown'
            : error.code === 'EHOSTUNREACH' || error.code === 'ENETUNREACH'
              ? 'the host cannot be reached from this computer'
              : (error.code ?? error.message);
      done(false, `could not connect to ${host}:${port}: ${why}`);
    });
  });
}
