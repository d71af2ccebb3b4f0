/**
 * The Orders page in real Chromium against `serve --web`: an order from the LIS over MLLP shows
 * in the worklist, an order is added by hand and cancelled, and the instrument card counts the
 * pending orders.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { frameMllp } from '../../src-main/protocols/hl7/mllp';
import { freePort, waitFor } from '../support/ports';
import { tempDir } from '../support/temp';
import { artifactPath, buildRenderer, launchChromium, serveWeb, type Served } from './harness';

let browser: Browser;
let served: Served;
let page: Page;
let temp: { dir: string; remove: () => void };
let lisPort: number;

beforeAll(async () => {
  buildRenderer();
  temp = tempDir('labgw-e2e-orders-');
  lisPort = await freePort();
  served = await serveWeb({
    dir: temp.dir,
    webPort: await freePort(),
    config: {
      instruments: [
        {
          id: 'chem1',
          name: 'Chemistry analyzer',
          protocol: 'astm',
          mode: 'server',
          port: await freePort(),
        },
      ],
      orderSources: [{ id: 'lis-orders', type: 'hl7', port: lisPort }],
    },
  });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  temp?.remove();
});

async function sendOrder(sample: string, tests: string[]): Promise<void> {
  const text = [
    'MSH|^~\\&|LIS|HOSP|chem1|LAB|20261126100000||ORM^O01|E2E1|P|2.5.1',
    'PID|1||PID-E2E||DOE^JANE',
    ...tests.flatMap((t, i) => ['ORC|NW', `OBR|${i + 1}||${sample}|${t}`]),
    '',
  ].join('\r');
  const socket = net.connect(lisPort, '127.0.0.1');
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
  socket.write(frameMllp(Buffer.from(text, 'latin1')));
  await waitFor(() => answer.includes('MSA|AA|E2E1'), 'the ACK');
  socket.destroy();
}

describe('the Orders page', () => {
  it('shows an order from the LIS, adds one by hand, cancels it, and counts pending orders', async () => {
    await sendOrder('E2E-SID1', ['GLUC', 'CREAT']);
    await page.goto(`${served.url}/#/orders`);
    const lisRow = page.locator('tr[data-sample="E2E-SID1"]');
    await lisRow.waitFor();
    expect(await lisRow.innerText()).toContain('GLUC');
    expect(await lisRow.innerText()).toContain('Pending');

    await page.getByLabel('Sample ID', { exact: true }).last().fill('HAND-1');
    await page.getByLabel('Tests').fill('NA, K');
    await page.getByLabel('Patient ID').fill('P-HAND');
    await page.getByRole('button', { name: 'Add order' }).click();
    const handRow = page.locator('tr[data-sample="HAND-1"]');
    await handRow.waitFor();
    expect(await handRow.innerText()).toContain('any');
    await page.screenshot({ path: artifactPath('orders.png') });

    await page.getByRole('button', { name: 'Cancel the order for HAND-1' }).click();
    await page.locator('tr[data-sample="HAND-1"] >> text=Cancelled').waitFor();

    await page.getByRole('searchbox').fill('E2E-SID1');
    await page.locator('tr[data-sample="HAND-1"]').waitFor({ state: 'detached' });
    expect(await page.locator('tbody tr').count()).toBe(1);

    await page.goto(`${served.url}/#/dashboard`);
    const count = page.getByTestId('pending-orders');
    await count.filter({ hasText: '1 for it' }).waitFor();
    await page.screenshot({ path: artifactPath('dashboard-orders.png') });
  }, 60_000);

  it('shows the order source on the dashboard: LIS connected, orders today, last error', async () => {
    // A LIS that stays connected, sends one good order and one without an OBR.
    const socket = net.connect(lisPort, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    const send = async (control: string, segments: string[]) => {
      const text = [
        `MSH|^~\\&|LIS|HOSP|chem1|LAB|20261126100000||ORM^O01|${control}|P|2.5.1`,
        ...segments,
        '',
      ].join('\r');
      socket.write(frameMllp(Buffer.from(text, 'latin1')));
      await waitFor(() => answer.includes(`|${control}`), `the answer to ${control}`);
    };
    try {
      await send('E2E2', ['PID|1||PID-2', 'ORC|NW', 'OBR|1||E2E-SID2|GLUC']);
      await send('E2E3', ['PID|1||PID-3', 'ORC|NW']);
      expect(answer).toContain('MSA|AE|E2E3');

      await page.goto(`${served.url}/#/dashboard`);
      await page.reload();
      const card = page.getByTestId('order-source-card');
      await card.filter({ hasText: 'LIS connected' }).waitFor();
      const text = await card.innerText();
      expect(text).toContain('lis-orders');
      expect(text).toContain('127.0.0.1');
      // E2E-SID1 from the first test and E2E-SID2; the order added by hand is not the LIS's.
      expect(await page.getByTestId('orders-today').innerText()).toBe('2');
      expect(text).toContain('the order has no OBR segment');
      expect(text).toContain('ORDER_NO_OBR');
      await page.screenshot({ path: artifactPath('dashboard-order-sources.png'), fullPage: true });
    } finally {
      socket.destroy();
    }
  }, 60_000);
});
