/**
 * The destination editor in real Chromium against `serve --web`: a destination from the
 * configuration file is shown read-only; one added in the UI is created, changed and removed
 * through the gateway's own commands, and a bad value is named next to its field.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { freePort } from '../support/ports';
import { tempDir } from '../support/temp';
import { artifactPath, buildRenderer, launchChromium, serveWeb, type Served } from './harness';

let browser: Browser;
let served: Served;
let page: Page;
let temp: { dir: string; remove: () => void };

beforeAll(async () => {
  buildRenderer();
  temp = tempDir('labgw-e2e-destinations-');
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
          port: await freePort(),
        },
      ],
      destinations: [
        { id: 'lis', name: 'Main LIS', type: 'hl7', host: '127.0.0.1', port: await freePort() },
      ],
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

describe('the destination editor', () => {
  it('adds, changes and removes a destination; one from the file is read-only', async () => {
    await page.goto(served.url);
    const fromFile = page.locator('article[data-destination="lis"]');
    await fromFile.waitFor();
    await fromFile.getByRole('button', { name: 'Settings' }).click();
    await page.getByText('These settings come from').waitFor();
    expect(await page.getByRole('button', { name: 'Save changes' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Close' }).click();

    const folder = path.join(temp.dir, 'outbox-files');
    await page.getByRole('button', { name: 'Add destination' }).click();
    const form = page.getByRole('form', { name: 'Add a destination' });
    await form.getByLabel('Type').selectOption('http');
    await form.getByLabel('URL').fill('https://lis.lab/fhir');
    await form.getByLabel('Format').selectOption('fhir');
    await form.getByRole('button', { name: 'Add a header' }).click();
    await form.getByLabel('Header 1').fill('Authorization');
    await form.getByLabel('Environment variable 1').fill('LIS_AUTH');
    await form.screenshot({ path: artifactPath('destination-editor-http.png') });
    await form.getByLabel('Type').selectOption('file');
    await form.getByLabel('ID').fill('archive');
    await form.getByLabel('Name').fill('Results archive');
    await form.getByRole('button', { name: 'Add destination' }).click();
    await form.getByText('must not be empty').waitFor();
    await form.getByLabel('Folder').fill(folder);
    await form.getByLabel('Format').selectOption('csv');
    await form.getByRole('button', { name: 'Add destination' }).click();

    const card = page.locator('article[data-destination="archive"]');
    await card.waitFor({ timeout: 10_000 });
    expect(await card.innerText()).toContain(folder);
    const edit = page.locator('form.destination-editor');
    await page.getByRole('heading', { name: 'Edit Results archive' }).waitFor();
    await edit.waitFor();
    await edit.getByLabel('Name').fill('CSV archive');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await edit.getByText('Saved.').waitFor({ timeout: 10_000 });
    await card.getByText('CSV archive').waitFor({ timeout: 10_000 });
    await page.getByRole('heading', { name: 'Results to the LIS' }).scrollIntoViewIfNeeded();
    await page.screenshot({ path: artifactPath('destination-editor.png') });

    await edit.getByRole('button', { name: 'Remove' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Remove destination' }).click();
    await card.waitFor({ state: 'detached', timeout: 10_000 });
    expect(existsSync(path.join(temp.dir, 'gateway.json'))).toBe(true);
  }, 90_000);
});
