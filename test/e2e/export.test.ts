/**
 * Export from the History page in real Chromium against the real headless gateway: the CSV
 * arrives as a browser download streamed from the gateway, and the address serves only once.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { runSimulator } from '../../src-main/simulator/simulator';
import { freePort } from '../support/ports';
import { tempDir } from '../support/temp';
import { buildRenderer, launchChromium, serveWeb, type Served } from './harness';

const TOKEN = 'export-e2e-token';
const MESSAGES = 60;
const RESULTS = 3;

let browser: Browser;
let served: Served;
let page: Page;
let temp: { dir: string; remove: () => void };
const samples: string[] = [];

beforeAll(async () => {
  buildRenderer();
  temp = tempDir('labgw-e2e-export-');
  const analyzerPort = await freePort();
  served = await serveWeb({
    dir: temp.dir,
    webPort: await freePort(),
    token: TOKEN,
    config: {
      instruments: [
        {
          id: 'chem1',
          name: 'Chemistry analyzer',
          protocol: 'astm',
          mode: 'server',
          port: analyzerPort,
        },
      ],
    },
  });
  const summary = await runSimulator({
    protocol: 'astm',
    target: { connect: { host: '127.0.0.1', port: analyzerPort } },
    messages: MESSAGES,
    results: RESULTS,
    runId: 'EXP1',
    onMessage: (_id, sample) => samples.push(sample.sampleId),
  });
  expect(summary.acked).toBe(MESSAGES);
  browser = await launchChromium();
  const context = await browser.newContext({
    viewport: { width: 1280, height: 720 },
    acceptDownloads: true,
  });
  page = await context.newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  const code = await served?.stop();
  temp?.remove();
  expect(code).toBe(0);
});

/** The cells of one CSV line (quoted cells may hold commas and doubled quotes). */
function cells(line: string): string[] {
  return [...line.matchAll(/("(?:[^"]|"")*"|[^,]*)(?:,|$)/g)]
    .map((match) => match[1]!)
    .slice(0, -1)
    .map((cell) => (cell.startsWith('"') ? cell.slice(1, -1).replace(/""/g, '"') : cell));
}

describe('exports in Chromium', { timeout: 60_000 }, () => {
  it('downloads the CSV of the History page, streamed from the gateway, once', async () => {
    const signIn = await page.goto(`${served.url}/?token=${TOKEN}`);
    expect(signIn?.status()).toBe(200);
    await page.getByRole('link', { name: 'History' }).click();
    // Newest first: the last message sent heads the list once the history has loaded.
    await page
      .getByRole('option')
      .filter({ hasText: samples.at(-1)! })
      .first()
      .waitFor({ timeout: 15_000 });
    await page.getByRole('combobox', { name: 'Export as' }).selectOption('csv');

    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 15_000 }),
      page.getByRole('button', { name: 'Export' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^results-[\d-]+\.csv$/);
    expect(new URL(download.url()).pathname).toMatch(/^\/export\/[A-Za-z0-9_-]{32}$/);
    expect(await download.failure()).toBeNull();
    const file = await download.path();
    const lines = readFileSync(file, 'utf8').trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      '\uFEFFmessageId,instrumentId,instrumentName,receivedAt,sampleId,patientId,testCode,value,units,referenceRange,flags,status,observedAt,qc',
    );
    const rows = lines.slice(1).map(cells);
    expect(rows).toHaveLength(MESSAGES * RESULTS);
    expect(rows.every((row) => row.length >= 13 && row[1] === 'chem1')).toBe(true);
    expect(new Set(rows.map((row) => row[4]))).toEqual(new Set(samples));
    await expect
      .poll(() => page.getByRole('status').filter({ hasText: 'Downloading' }).count())
      .toBe(1);

    // The address served its one download: asking again, with the same session, finds nothing.
    const again = await page.request.get(download.url());
    expect(again.status()).toBe(404);
    expect(await again.text()).toContain('downloaded already, or it expired');
  });
});
