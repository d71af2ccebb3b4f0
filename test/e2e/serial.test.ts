/**
 * A serial instrument in real Chromium against the real `serve --web`: an analyzer on the other
 * end of a pty pair sends bare records, the card shows the port and its line settings, and a
 * technician sets up a second serial instrument in the editor and tests its port.
 */
import type { Browser, Page } from 'playwright-core';
import { SerialPort } from 'serialport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from '../support/ports';
import { PtyPair } from '../support/pty-pair';
import { tempDir } from '../support/temp';
import { artifactPath, buildRenderer, launchChromium, serveWeb, type Served } from './harness';

const TOKEN = 'e2e-serial-token';

let browser: Browser;
let served: Served;
let page: Page;
let pair: PtyPair;
let temp: { dir: string; remove: () => void };

beforeAll(async () => {
  buildRenderer();
  temp = tempDir('labgw-e2e-serial-');
  pair = new PtyPair(temp.dir);
  await pair.start();
  served = await serveWeb({
    dir: temp.dir,
    webPort: await freePort(),
    token: TOKEN,
    config: {
      instruments: [
        {
          id: 'urine1',
          name: 'Urine analyzer',
          protocol: 'astm',
          transport: 'serial',
          serial: { path: pair.gateway, baudRate: 9600 },
          astm: { framing: 'raw' },
        },
      ],
    },
  });
  // Opening a port discards what waited in it, so the analyzer sends once the link has it open.
  await waitFor(() => served.stderr().includes('is open (9600 8N1)'), 'the link to open its port');
  const analyzer = new SerialPort({ path: pair.analyzer, baudRate: 9600, autoOpen: false });
  await new Promise<void>((resolve, reject) =>
    analyzer.open((error) => (error ? reject(error) : resolve())),
  );
  analyzer.write(
    'H|\\^&|||URISYS|||||||P|LIS2-A2|20260101120000\r\n' +
      'P|1||PAT-7\r\nO|1|U-1001||^^^PRO|R\r\nR|1|^^^PRO|0.3|g/L||N||F\r\nL|1|N\r\n',
  );
  await new Promise<void>((resolve) => analyzer.drain(() => resolve()));
  await new Promise<void>((resolve) => analyzer.close(() => resolve()));
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  page = await context.newPage();
  await page.goto(`${served.url}/?token=${TOKEN}`);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  const code = await served?.stop();
  await pair?.stop();
  temp?.remove();
  expect(code).toBe(0);
});

describe('a serial instrument in the browser', () => {
  it('shows the port and line settings on its card, and the message it sent', async () => {
    const card = page.getByRole('article', { name: 'Urine analyzer' });
    await card.getByText('Connected').waitFor();
    await card.getByText('1 in').waitFor();
    const sub = await card.locator('.card-sub').innerText();
    expect(sub).toContain('serial');
    expect(sub).toContain(pair.gateway);
    expect(sub).toContain('9600 8N1');
    await page.screenshot({ path: artifactPath('serial-dashboard.png') });
  });

  it('sets up a serial instrument: port, line settings, test of the port', async () => {
    await page.getByRole('link', { name: 'Instruments' }).click();
    await page.getByRole('button', { name: 'Add instrument' }).click();
    await page.getByRole('textbox', { name: 'ID', exact: true }).fill('coag1');
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Coagulation analyzer');
    await page.getByLabel('Connection type').selectOption('serial');
    const picker = page.getByLabel('Ports on this computer');
    await picker.waitFor();
    await page.getByLabel('Port', { exact: true }).fill(pair.gateway);
    await page.getByLabel('Baud rate').selectOption('19200');
    await page.getByLabel('Parity').selectOption('even');
    await page.getByLabel('Data bits').selectOption('7');
    await page.getByRole('button', { name: 'Test connection' }).click();
    // The link of the first instrument holds this port: the test says so instead of failing.
    const answer = page.getByText(/in this gateway uses it/);
    await answer.waitFor();
    expect(await answer.innerText()).toContain('Urine analyzer');
    await page.screenshot({ path: artifactPath('serial-editor.png'), fullPage: true });

    await page.getByLabel('Port', { exact: true }).fill(`${pair.gateway}-missing`);
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByText(/Port does not open/).waitFor();
    expect(await page.locator('.test-connection').innerText()).toContain('there is no port');
  });
});
