/**
 * The UI in real Chromium against the real headless gateway (`serve --web`): four instruments,
 * analyzers sending traffic on loopback, and a bench technician's day in a few clicks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  startHl7Analyzer,
  startAstmAnalyzer,
  type DemoAnalyzer,
} from '../../src-main/demo/analyzers';
import { runSimulator } from '../../src-main/simulator/simulator';
import { freePort } from '../support/ports';
import { tempDir } from '../support/temp';
import { artifactPath, buildRenderer, launchChromium, serveWeb, type Served } from './harness';

const TOKEN = 'e2e-secret-token';

let browser: Browser;
let served: Served;
let page: Page;
let temp: { dir: string; remove: () => void };
const analyzers: DemoAnalyzer[] = [];
const background: Promise<unknown>[] = [];
const sentSamples: string[] = [];
let ports: { astmServer: number; hl7Server: number; astmClient: number; hl7Client: number };

beforeAll(async () => {
  buildRenderer();
  temp = tempDir('labgw-e2e-');
  ports = {
    astmServer: await freePort(),
    hl7Server: await freePort(),
    astmClient: await freePort(),
    hl7Client: 0,
  };
  // The HL7 analyzer listens; the gateway's client link connects to it.
  const hl7Analyzer = await startHl7Analyzer({
    host: '127.0.0.1',
    port: 0,
    intervalMs: 500,
    results: 3,
    idPrefix: 'HE2E',
  });
  analyzers.push(hl7Analyzer);
  ports.hl7Client = hl7Analyzer.port;
  const webPort = await freePort();
  served = await serveWeb({
    dir: temp.dir,
    webPort,
    token: TOKEN,
    config: {
      instruments: [
        {
          id: 'chem1',
          name: 'Chemistry analyzer',
          protocol: 'astm',
          mode: 'server',
          port: ports.astmServer,
        },
        {
          id: 'hema1',
          name: 'Hematology analyzer',
          protocol: 'hl7',
          mode: 'server',
          port: ports.hl7Server,
        },
        {
          id: 'immuno1',
          name: 'Immunoassay analyzer',
          protocol: 'astm',
          mode: 'client',
          port: ports.astmClient,
          reconnect: { initialDelayMs: 200, maxDelayMs: 2000 },
        },
        {
          id: 'coag1',
          name: 'Coagulation analyzer',
          protocol: 'hl7',
          mode: 'client',
          port: ports.hl7Client,
          reconnect: { initialDelayMs: 200, maxDelayMs: 2000, jitter: 0 },
        },
      ],
    },
  });
  analyzers.push(
    startAstmAnalyzer({
      host: '127.0.0.1',
      port: ports.astmServer,
      intervalMs: 700,
      results: 4,
      idPrefix: 'AE2E',
      retryMs: 200,
    }),
  );
  // A known sample to search for later, through the HL7 server link.
  await runSimulator({
    protocol: 'hl7',
    target: { connect: { host: '127.0.0.1', port: ports.hl7Server } },
    messages: 3,
    results: 5,
    runId: 'E2E1',
    onMessage: (_id, sample) => sentSamples.push(sample.sampleId),
  });
  // The ASTM client link's analyzer listens and sends a few messages.
  background.push(
    runSimulator({
      protocol: 'astm',
      target: { listen: { host: '127.0.0.1', port: ports.astmClient } },
      messages: 5,
      results: 2,
      intervalMs: 300,
      runId: 'E2E2',
    }),
  );
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  page = await context.newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all(analyzers.map((a) => a.stop()));
  await Promise.allSettled(background);
  const code = await served?.stop();
  temp?.remove();
  expect(code).toBe(0);
});

function card(name: string) {
  return page.getByRole('article', { name });
}

/** The status word of an instrument's card, e.g. `Reconnecting in 8 s`. */
function statusOf(name: string): Promise<string> {
  return card(name).locator('.badge').innerText();
}

describe('the UI in Chromium', { timeout: 60_000 }, () => {
  it('refuses a wrong token and lets the right one in', async () => {
    const wrong = await page.goto(`${served.url}/?token=not-the-token`);
    expect(wrong?.status()).toBe(401);
    expect(await page.content()).not.toContain('Chemistry analyzer');
    const asset = await page.request.get(`${served.url}/index.html`);
    expect(asset.status()).toBe(401);
    const right = await page.goto(`${served.url}/?token=${TOKEN}`);
    expect(right?.status()).toBe(200);
    expect(page.url()).not.toContain(TOKEN);
  });

  it('shows every instrument with its live status', async () => {
    await page.getByRole('link', { name: 'Dashboard' }).click();
    for (const name of [
      'Chemistry analyzer',
      'Hematology analyzer',
      'Immunoassay analyzer',
      'Coagulation analyzer',
    ]) {
      await card(name).waitFor({ timeout: 15_000 });
    }
    await expect.poll(() => statusOf('Chemistry analyzer'), { timeout: 15_000 }).toBe('Connected');
    await expect
      .poll(() => statusOf('Coagulation analyzer'), { timeout: 15_000 })
      .toBe('Connected');
    await expect
      .poll(() => statusOf('Hematology analyzer'), { timeout: 15_000 })
      .toMatch(/^(Listening|Connected)$/);
    await page.screenshot({ path: artifactPath('dashboard.png') });
  });

  it('reconnects a client link on request: Connecting, then Connected again', async () => {
    const coag = card('Coagulation analyzer');
    const seen: string[] = [];
    const watch = setInterval(() => {
      void statusOf('Coagulation analyzer').then(
        (word) => {
          if (seen.at(-1) !== word) seen.push(word);
        },
        () => undefined,
      );
    }, 25);
    await coag.getByRole('button', { name: 'Reconnect' }).click();
    // The link is healthy, so the card asks first.
    await coag.getByRole('button', { name: 'Reconnect now' }).click();
    // First the link is seen connecting again…
    await expect.poll(() => seen.includes('Connecting'), { timeout: 10_000 }).toBe(true);
    clearInterval(watch);
    // …then, polled only after that, connected.
    await expect
      .poll(() => statusOf('Coagulation analyzer'), { timeout: 15_000 })
      .toBe('Connected');
  });

  it('shows Reconnecting when the analyzer goes away', async () => {
    await analyzers[0]!.stop();
    await expect
      .poll(() => statusOf('Coagulation analyzer'), { timeout: 15_000 })
      .toMatch(/^Reconnecting in \d+ s$/);
    await page.screenshot({ path: artifactPath('dashboard-reconnecting.png') });
  });

  it('finds a sample by its ID and shows its results, raw bytes and trace', async () => {
    await page.getByRole('link', { name: 'History' }).click();
    const search = page
      .getByRole('searchbox', { name: 'Search messages' })
      .or(page.getByLabel('Search messages'));
    const sample = sentSamples[1]!;
    await search.first().fill(sample);
    const row = page.getByRole('option').filter({ hasText: sample });
    await row.first().waitFor({ timeout: 15_000 });
    await row.first().click();
    await page.keyboard.press('Enter');
    await page.getByRole('tab', { name: 'Results' }).click();
    const results = page.getByRole('tabpanel');
    await expect.poll(() => results.innerText(), { timeout: 10_000 }).toContain('GLU');
    await page.screenshot({ path: artifactPath('history-results.png') });
    await page.getByRole('tab', { name: 'Raw' }).click();
    await expect
      .poll(() => page.getByRole('tabpanel').innerText(), { timeout: 10_000 })
      .toContain('␋');
    await expect.poll(() => page.getByRole('tabpanel').innerText()).toContain('␜');
    await page.getByRole('tab', { name: 'Trace' }).click();
    await expect
      .poll(() => page.getByRole('tabpanel').innerText(), { timeout: 10_000 })
      .toContain('MSA');
  });

  it('shows an ASTM message with its control characters as symbols', async () => {
    const search = page.getByLabel('Search messages');
    await search.first().fill('AE2E');
    const row = page.getByRole('option').filter({ hasText: 'AE2E' });
    await row.first().waitFor({ timeout: 15_000 });
    await row.first().click();
    await page.keyboard.press('Enter');
    await page.getByRole('tab', { name: 'Raw' }).click();
    const raw = page.getByRole('tabpanel');
    await expect.poll(() => raw.innerText(), { timeout: 10_000 }).toContain('␂');
    await expect.poll(() => raw.innerText()).toContain('␃');
    // From the session trace (which refers to the stored message for the frames' bytes).
    expect(await raw.innerText()).toContain('exactly as received');
    await page.screenshot({ path: artifactPath('history-raw.png') });
    await page.getByRole('tab', { name: 'Trace' }).click();
    const trace = await page.getByRole('tabpanel').innerText();
    expect(trace).toMatch(/ENQ|␅/);
    expect(trace).toMatch(/EOT|␄/);
    await page.screenshot({ path: artifactPath('history-trace.png') });
  });
});
