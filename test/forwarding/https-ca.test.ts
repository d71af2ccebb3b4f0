/** HTTPS destinations trust the system's CAs, or the CA file configured: a self-signed LIS. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { destinationConfigSchema } from '../../src-shared/config';
import { Forwarder } from '../../src-main/forwarding/forwarder';
import { systemClock } from '../../src-main/system-clock';
import { astmMessage, storeSandbox } from '../store/fixtures';
import { waitFor } from '../support/ports';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function selfSigned(dir: string): { key: string; cert: string } {
  const key = path.join(dir, 'lis.key');
  const cert = path.join(dir, 'lis.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return { key, cert };
}

describe('an HTTPS LIS with its own certificate authority', () => {
  it('is refused without the CA file (retried, in plain words) and delivered with it', async () => {
    const sandbox = storeSandbox();
    cleanups.push(() => sandbox.cleanup());
    const dir = path.dirname(sandbox.file());
    const { key, cert } = selfSigned(dir);
    const bodies: string[] = [];
    const server = https.createServer(
      { key: fs.readFileSync(key), cert: fs.readFileSync(cert) },
      (request, response) => {
        let body = '';
        request.on('data', (chunk: Buffer) => (body += chunk.toString()));
        request.on('end', () => {
          bodies.push(body);
          response.writeHead(200).end('ok');
        });
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `https://127.0.0.1:${(server.address() as { port: number }).port}/results`;

    for (const withCa of [false, true]) {
      const store = sandbox.open({ file: path.join(dir, `ca-${withCa}.sqlite`) });
      const forwarder = new Forwarder({
        store,
        clock: systemClock,
        instrument: () => null,
        log: () => undefined,
      });
      cleanups.push(() => forwarder.close());
      forwarder.start([
        destinationConfigSchema.parse({
          id: 'lims',
          type: 'http',
          url,
          retry: { initialDelayMs: 50, maxDelayMs: 100 },
          ...(withCa ? { caFile: cert } : {}),
        }),
      ]);
      await store.enqueue({
        ...astmMessage(1),
        outbox: [{ destinationId: 'lims', scope: 'patient' }],
      });
      await waitFor(
        () => {
          forwarder.flush();
          const [entry] = store.listOutbox();
          return withCa ? entry?.state === 'delivered' : (entry?.attempts ?? 0) >= 1;
        },
        withCa ? 'delivered with the CA file' : 'a refused attempt',
      );
      const [entry] = store.listOutbox();
      if (withCa) expect(bodies).toHaveLength(1);
      else {
        expect(entry!.state).toBe('pending');
        expect(entry!.error).toMatch(/certificate/i);
      }
    }
  });
});
