/**
 * Profiles, test-code mapping and QC in real Chromium against the real `serve --web`: an
 * instrument from the configuration file with a profile, a mapping and QC rules, another set up
 * in the editor, analyzers sending on loopback, and a technician reading what arrived.
 */
import net from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../src-main/protocols/astm/frame';
import { fixtureBytes } from '../profiles/fixtures';
import { freePort } from '../support/ports';
import { tempDir } from '../support/temp';
import { artifactPath, buildRenderer, launchChromium, serveWeb, type Served } from './harness';

const TOKEN = 'e2e-profiles-token';

let browser: Browser;
let served: Served;
let page: Page;
let temp: { dir: string; remove: () => void };
let ports: { dca: number; genexpert: number };

/** Connects once the gateway's link listens (it starts beside the web server). */
async function connect(port: number): Promise<net.Socket> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await new Promise<net.Socket>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1');
        socket.once('connect', () => resolve(socket));
        socket.once('error', reject);
      });
    } catch (error) {
      if (attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/**
 * ENQ, each frame, EOT; every step waits for the gateway's ACK as an analyzer does. A server link
 * takes one connection at a time and refuses a new one while the last is still closing, so a
 * connection ended before the ENQ was answered is tried again, as an analyzer would.
 */
async function transmit(port: number, bytes: Buffer): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const outcome = await transmitOnce(port, bytes);
    if (outcome === 'sent') return;
    if (attempt >= 20) throw new Error('the gateway kept ending the connection before answering');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function transmitOnce(port: number, bytes: Buffer): Promise<'sent' | 'refused'> {
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length;) {
    const end = bytes[at] === 0x02 ? bytes.indexOf(0x0a, at) + 1 : at + 1;
    pieces.push(bytes.subarray(at, end));
    at = end;
  }
  const socket = await connect(port);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const replies: number[] = [];
  let heard: (() => void) | null = null;
  socket.on('data', (data: Buffer) => {
    replies.push(...data);
    heard?.();
  });
  socket.on('end', () => heard?.());
  try {
    for (const piece of pieces) {
      socket.write(piece);
      if (piece[0] === 0x04) break;
      const before = replies.length;
      const answered = await new Promise<boolean>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `no answer from the gateway to ${JSON.stringify(piece.toString('latin1'))}`,
              ),
            ),
          15_000,
        );
        heard = () => {
          if (replies.length === before && !socket.readableEnded) return;
          clearTimeout(timer);
          resolve(replies.length > before);
        };
        heard();
      });
      if (!answered) {
        if (piece[0] === 0x05) return 'refused';
        throw new Error('the gateway ended the connection in the middle of the message');
      }
      expect(replies.at(-1), 'the gateway acknowledges').toBe(0x06);
    }
  } finally {
    socket.end();
    await closed;
  }
  return 'sent';
}

/** The DCA Vantage fixture with another sample ID. */
function dcaWithSample(sampleId: string): Buffer {
  const text = fixtureBytes('dca-vantage.astm')
    .toString('latin1')
    .split('\x02')[1]!
    .slice(1, -6)
    .replace('O|1||712^0031', `O|1||${sampleId}^0031`);
  return Buffer.concat([
    Buffer.of(0x05),
    encodeFrame(1, Buffer.from(text, 'latin1'), true),
    Buffer.of(0x04),
  ]);
}

beforeAll(async () => {
  buildRenderer();
  temp = tempDir('labgw-e2e-profiles-');
  ports = { dca: await freePort(), genexpert: await freePort() };
  served = await serveWeb({
    dir: temp.dir,
    webPort: await freePort(),
    token: TOKEN,
    config: {
      instruments: [
        {
          id: 'dca1',
          name: 'DCA Vantage',
          protocol: 'astm',
          mode: 'server',
          port: ports.dca,
          profile: 'dca-vantage',
          testCodes: {
            Alb: { code: 'UALB', name: 'Urine albumin' },
            Crt: 'UCREA',
            Ratio: { exclude: true },
          },
          qc: { sampleIds: ['CTRL*'] },
        },
      ],
    },
  });
  await transmit(ports.dca, fixtureBytes('dca-vantage.astm'));
  await transmit(ports.dca, dcaWithSample('CTRL-N1'));
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  page = await context.newPage();
  await page.goto(`${served.url}/?token=${TOKEN}`);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  const code = await served?.stop();
  temp?.remove();
  expect(code).toBe(0);
});

const rowsOfList = () => page.getByRole('listbox', { name: 'Messages' }).getByRole('option');
/** The history's Results filter (all, QC and calibration, patient results). */
const resultsFilter = () =>
  page.locator('label.history-filter', { hasText: 'All results' }).locator('select');

describe('profiles, mapping and QC in Chromium', { timeout: 60_000 }, () => {
  it('marks the QC message in the history and filters on it', async () => {
    await page.getByRole('link', { name: 'History' }).click();
    await expect.poll(() => rowsOfList().count(), { timeout: 15_000 }).toBe(2);
    const qcRow = rowsOfList().filter({ hasText: 'CTRL-N1' });
    expect(await qcRow.getByText('QC', { exact: true }).count()).toBe(1);
    expect(
      await rowsOfList().filter({ hasText: '712' }).getByText('QC', { exact: true }).count(),
    ).toBe(0);
    await resultsFilter().selectOption('qc');
    await expect.poll(() => rowsOfList().count(), { timeout: 10_000 }).toBe(1);
    expect(await rowsOfList().first().innerText()).toContain('CTRL-N1');
    await page.screenshot({ path: artifactPath('profiles-history-qc.png') });
    await resultsFilter().selectOption('patient');
    await expect.poll(() => rowsOfList().first().innerText(), { timeout: 10_000 }).toContain('712');
    expect(await rowsOfList().count()).toBe(1);
    await resultsFilter().selectOption('');
  });

  it('shows both codes, the QC mark and where each value was read', async () => {
    await rowsOfList().filter({ hasText: 'CTRL-N1' }).click();
    await page.getByRole('heading', { name: /Message \d+/ }).waitFor();
    const header = page.locator('.history-detail-header');
    expect(await header.innerText()).toContain('The Siemens DCA Vantage profile (dca-vantage)');
    expect(await header.innerText()).toContain('3 quality-control results');
    await page.getByRole('tab', { name: 'Results' }).click();
    const table = page.getByRole('table', { name: /Results of message/ });
    const first = await table.getByRole('row').nth(1).innerText();
    expect(first).toContain('UALB Urine albumin');
    expect(first).toContain('2025-06-03 11:10:12');
    expect(first).toContain('R-12');
    expect(await table.getByRole('row').nth(3).innerText()).toContain('not forwarded');
    await page.screenshot({ path: artifactPath('profiles-results-tab.png') });
    await page.getByRole('tab', { name: 'Parsed' }).click();
    expect(await page.getByRole('tabpanel').innerText()).toContain('→ Result time of result 1');
    await page.getByText('→ Result time of result 1').scrollIntoViewIfNeeded();
    await page.screenshot({ path: artifactPath('profiles-parsed-tab.png') });
  });

  it('shows the profile and mapping of an instrument from the configuration file read-only', async () => {
    await page.getByRole('link', { name: 'Instruments' }).click();
    await page.getByRole('navigation', { name: 'Instruments' }).getByText('DCA Vantage').click();
    const note = page.getByRole('note');
    await note.waitFor({ timeout: 10_000 });
    expect(await note.innerText()).toContain('These settings come from the configuration file');
    expect(await page.getByLabel('Analyzer code, row 1').count()).toBe(0);
    await page.getByText('All settings as the file gives them').click();
    const settings = await page.locator('.managed-json').innerText();
    expect(settings).toContain('"profile": "dca-vantage"');
    expect(settings).toContain('"code": "UALB"');
    await page.screenshot({ path: artifactPath('profiles-editor-from-file.png') });
  });

  it('sets up an instrument with a profile and a mapping table, then reads its messages so', async () => {
    await page.getByRole('button', { name: 'Add instrument' }).click();
    await page.getByLabel('ID', { exact: true }).fill('gx1');
    await page.getByLabel('Name', { exact: true }).fill('GeneXpert');
    await page.getByLabel('Port', { exact: true }).fill(String(ports.genexpert));
    await page.getByLabel('Profile').selectOption('genexpert');
    await page.getByRole('button', { name: 'Add a test code' }).click();
    await page.getByLabel('Analyzer code, row 1').fill('Xpert/rpoB1/Ct');
    await page.getByLabel('LIS code, row 1').fill('RPOB1-CT');
    await page.getByRole('button', { name: 'Add a test code' }).click();
    await page.getByLabel('Analyzer code, row 2').fill('Xpert/rpoB1/Ct');
    await page.getByRole('button', { name: 'Create instrument' }).click();
    await expect
      .poll(() => page.locator('.test-code-table').innerText(), { timeout: 5_000 })
      .toContain('"Xpert/rpoB1/Ct" is already in row 1');
    await page.screenshot({ path: artifactPath('profiles-editor-table-error.png') });
    await page.getByLabel('Analyzer code, row 2').fill('Xpert/SPC/Ct');
    await page.getByLabel('Not forwarded, row 2').check();
    await page.getByRole('button', { name: 'Create instrument' }).click();
    await page.getByRole('heading', { name: 'Edit GeneXpert' }).waitFor({ timeout: 10_000 });
    expect(await page.getByLabel('Analyzer code, row 2').inputValue()).toBe('Xpert/SPC/Ct');
    expect(await page.getByLabel('Not forwarded, row 2').isChecked()).toBe(true);
    await page.screenshot({ path: artifactPath('profiles-editor.png'), fullPage: true });

    await transmit(ports.genexpert, fixtureBytes('genexpert.astm'));
    await page.getByRole('link', { name: 'History' }).click();
    const row = rowsOfList().filter({ hasText: 'GX25B0042' });
    await row.first().waitFor({ timeout: 15_000 });
    await row.first().click();
    await page.getByRole('tab', { name: 'Results' }).click();
    const third = page
      .getByRole('table', { name: /Results of message/ })
      .getByRole('row')
      .nth(3);
    const text = await third.innerText();
    expect(text).toContain('Xpert/rpoB1/Ct');
    expect(text).toContain('RPOB1-CT');
    expect(text).toContain('21.3');
    expect(text).toContain('R-4.2');
    await page.screenshot({ path: artifactPath('profiles-genexpert-results.png') });
  });
});
