/**
 * The destination card in real Chromium against `serve --web`: a LIS (python-hl7's MLLP server)
 * that is down shows as unreachable with the message waiting, shows up to date once it comes back,
 * and a rejected message is sent again with Retry failed.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { frameMllp } from '../../src-main/protocols/hl7/mllp';
import { startMllpLis, type MllpLis } from '../forwarding/peers';
import { freePort, waitFor } from '../support/ports';
import { tempDir } from '../support/temp';
import { artifactPath, buildRenderer, launchChromium, serveWeb, type Served } from './harness';

let browser: Browser;
let served: Served;
let page: Page;
let temp: { dir: string; remove: () => void };
let analyzerPort: number;
let lisPort: number;
let lis: MllpLis | null = null;

beforeAll(async () => {
  buildRenderer();
  temp = tempDir('labgw-e2e-forwarding-');
  analyzerPort = await freePort();
  lisPort = await freePort();
  served = await serveWeb({
    dir: temp.dir,
    webPort: await freePort(),
    config: {
      instruments: [
        {
          id: 'hema1',
          name: 'Hematology analyzer',
          protocol: 'hl7',
          mode: 'server',
          port: analyzerPort,
          forwardTo: ['lis'],
        },
      ],
      destinations: [
        {
          id: 'lis',
          name: 'Main LIS',
          type: 'hl7',
          host: '127.0.0.1',
          port: lisPort,
          reconnect: { initialDelayMs: 200, maxDelayMs: 500 },
          retry: { initialDelayMs: 200, maxDelayMs: 500 },
        },
      ],
    },
  });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  await lis?.stop();
  temp?.remove();
});

/** An analyzer's ORU^R01 for one sample, sent and acknowledged. */
async function sendResult(controlId: string, sample: string): Promise<void> {
  const text = [
    `MSH|^~\\&|XN|LAB|GW|LAB|20261126100000||ORU^R01|${controlId}|P|2.5.1`,
    'PID|1||P-E2E||DOE^JANE',
    `OBR|1||${sample}|CBC`,
    'OBX|1|NM|WBC^White cells||6.1|10^9/L|4-11|N|||F',
    '',
  ].join('\r');
  const socket = net.connect(analyzerPort, '127.0.0.1');
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
  socket.write(frameMllp(Buffer.from(text, 'latin1')));
  await waitFor(() => answer.includes(`MSA|AA|${controlId}`), 'the ACK');
  socket.destroy();
}

describe('the destination card', () => {
  it('shows a LIS going down and coming back, and sends a rejected message again with Retry failed', async () => {
    await page.goto(served.url);
    const card = page.locator('article[data-destination="lis"]');
    await card.waitFor();
    await card.getByText('Unreachable', { exact: true }).waitFor({ timeout: 10_000 });
    await sendResult('E2E-1', 'S-OK-1');
    await card.getByText('1 message', { exact: true }).waitFor({ timeout: 10_000 });
    expect(await card.innerText()).toContain('connection refused');
    await page.screenshot({ path: artifactPath('forwarding-lis-down.png') });

    lis = await startMllpLis({ port: lisPort, rejectOncePrefix: 'BAD' });
    await card.getByText('Up to date', { exact: true }).waitFor({ timeout: 15_000 });
    await card.getByText('1 delivered').waitFor({ timeout: 10_000 });
    expect(lis.received.map((m) => m.text)).toEqual([expect.stringContaining('S-OK-1')]);

    await sendResult('E2E-2', 'BAD-2');
    await card.getByText('1 failed', { exact: false }).waitFor({ timeout: 10_000 });
    expect(await card.innerText()).toContain('unknown sample');
    await page.screenshot({ path: artifactPath('forwarding-failed.png') });
    await card.getByRole('button', { name: 'Retry failed' }).click();
    await card.getByText('2 delivered').waitFor({ timeout: 10_000 });
    expect(await card.innerText()).toContain('0 failed');
    expect(lis.received.filter((m) => m.text.includes('BAD-2'))).toHaveLength(2);

    await card.getByRole('button', { name: 'Hold' }).click();
    await card.getByText('On hold', { exact: true }).waitFor({ timeout: 5_000 });
    await card.getByRole('button', { name: 'Release' }).click();
    await card.getByText('Up to date', { exact: true }).waitFor({ timeout: 5_000 });
    await page.screenshot({ path: artifactPath('forwarding-card.png') });
  }, 90_000);

  it('History shows where each message stands with the LIS, filters by it, and lists every attempt', async () => {
    await page.getByRole('link', { name: 'History' }).click();
    const row = page.getByRole('option').filter({ hasText: 'BAD-2' });
    await row.first().waitFor({ timeout: 15_000 });
    expect(await row.first().innerText()).toContain('LIS delivered');
    await page.getByRole('combobox', { name: 'To the LIS' }).selectOption('failed');
    await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(0);
    await page.getByRole('combobox', { name: 'To the LIS' }).selectOption('delivered');
    await row.first().waitFor({ timeout: 10_000 });
    await row.first().click();
    await page.getByRole('tab', { name: 'Forwarding' }).click();
    const panel = page.getByRole('tabpanel');
    await panel.getByText('lis: Delivered').waitFor({ timeout: 10_000 });
    const text = await panel.innerText();
    expect(text).toContain('refused');
    expect(text).toContain('MSA|AR');
    expect(text).toContain('MSA|AA');
    await page.screenshot({ path: artifactPath('forwarding-history.png') });
  }, 60_000);
});
