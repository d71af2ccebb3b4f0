/**
 * POSTs to an upstream HTTP(S) endpoint (a LIS's REST or FHIR API), for forwarding. Keeps its
 * connections alive between posts; trusts the system's CAs or the given ones. Network failures
 * and timeouts reject with plain words; any HTTP answer resolves, whatever its status.
 */
import http from 'node:http';
import https from 'node:https';
import { describeSocketError, formatDuration } from './words';

export interface HttpPosterOptions {
  url: string;
  /** PEM certificate authorities to trust instead of the system's. */
  ca?: Buffer;
  timeoutMs: number;
}

export interface HttpAnswer {
  status: number;
  /** The start of the body (at most 4 KiB), as text. */
  body: string;
}

export interface HttpPoster {
  post(body: string, headers: Record<string, string>): Promise<HttpAnswer>;
  close(): void;
}

const MAX_BODY = 4096;

export function createHttpPoster(options: HttpPosterOptions): HttpPoster {
  const url = new URL(options.url);
  const secure = url.protocol === 'https:';
  const agent = secure
    ? new https.Agent({ keepAlive: true, maxSockets: 4, ...(options.ca ? { ca: options.ca } : {}) })
    : new http.Agent({ keepAlive: true, maxSockets: 4 });
  const where = `${url.protocol}//${url.host}`;
  return {
    post(body, headers) {
      return new Promise<HttpAnswer>((resolve, reject) => {
        const payload = Buffer.from(body, 'utf8');
        const request = (secure ? https : http).request(
          url,
          {
            method: 'POST',
            agent,
            headers: { ...headers, 'Content-Length': String(payload.length) },
          },
          (response) => {
            const chunks: Buffer[] = [];
            let size = 0;
            response.on('data', (chunk: Buffer) => {
              if (size < MAX_BODY) chunks.push(chunk);
              size += chunk.length;
            });
            response.on('end', () => {
              clearTimeout(timer);
              resolve({
                status: response.statusCode ?? 0,
                body: Buffer.concat(chunks).subarray(0, MAX_BODY).toString('utf8'),
              });
            });
            response.on('error', (error) => {
              clearTimeout(timer);
              reject(new Error(`the answer from ${where} broke off: ${error.message}`));
            });
          },
        );
        const timer = setTimeout(() => {
          request.destroy(
            new Error(`no answer from ${where} within ${formatDuration(options.timeoutMs)}`),
          );
        }, options.timeoutMs);
        request.on('error', (error) => {
          clearTimeout(timer);
          const reason = error.message.startsWith('no answer from')
            ? error.message
            : `could not post to ${where}: ${describeSocketError(error, url.hostname)}`;
          reject(new Error(reason));
        });
        request.end(payload);
      });
    },
    close() {
      agent.destroy();
    },
  };
}
