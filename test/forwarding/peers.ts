/** Real upstream peers on loopback for forwarding tests: python-hl7's MLLP server, node:http. */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import readline from 'node:readline';

export interface LisMessage {
  controlId: string;
  text: string;
}

export interface MllpLis {
  port: number;
  received: LisMessage[];
  stop(): Promise<void>;
}

/** python-hl7's asyncio MLLP server (an independent HL7 implementation) as the LIS. */
export function startMllpLis(
  options: { delayMs?: number; rejectOncePrefix?: string; port?: number } = {},
): Promise<MllpLis> {
  const args = [path.join(__dirname, 'mllp-lis.py')];
  if (options.port) args.push('--port', String(options.port));
  if (options.delayMs) args.push('--delay-ms', String(options.delayMs));
  if (options.rejectOncePrefix) args.push('--reject-once-prefix', options.rejectOncePrefix);
  const child: ChildProcess = spawn('/usr/bin/python3', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const received: LisMessage[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout! });
    const timer = setTimeout(
      () => reject(new Error(`the MLLP LIS did not start: ${stderr}`)),
      10_000,
    );
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the MLLP LIS exited (${code}): ${stderr}`));
    });
    lines.on('line', (line) => {
      const parsed = JSON.parse(line) as { port?: number } & Partial<LisMessage>;
      if (parsed.port !== undefined) {
        clearTimeout(timer);
        resolve({
          port: parsed.port,
          received,
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null) return done();
              child.once('exit', () => done());
              child.stdin!.end();
              setTimeout(() => child.kill('SIGKILL'), 2_000).unref();
            }),
        });
      } else {
        received.push({ controlId: parsed.controlId!, text: parsed.text! });
      }
    });
  });
}

export interface HttpLis {
  url: string;
  received: { headers: http.IncomingHttpHeaders; body: string }[];
  /** Status to answer with for the next requests (shifted per request), then 201. */
  answers: number[];
  stop(): Promise<void>;
}

export function startHttpLis(): Promise<HttpLis> {
  const state: HttpLis = { url: '', received: [], answers: [], stop: async () => undefined };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      state.received.push({
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const status = state.answers.shift() ?? 201;
      response.writeHead(status, { 'Content-Type': 'application/json' });
      response.end(status < 300 ? '{"ok":true}' : '{"issue":"unknown test code GLUC"}');
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as { port: number };
      state.url = `http://127.0.0.1:${address.port}/fhir`;
      state.stop = () =>
        new Promise<void>((done) => {
          server.closeAllConnections();
          server.close(() => done());
        });
      resolve(state);
    });
  });
}
