import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { BrowserWindow } from 'electron';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { exportThroughSaveDialog } from '../../src-main/electron/export-dialog';
import { CSV_BOM, CSV_COLUMNS, planExport } from '../../src-main/service/exports';
import type { MessageDetail, MessageSummary, Page } from '../../src-main/store/types';
import { tempDir } from '../support/temp';
import { FakeBrowserWindow, fake, resetFakeElectron } from './fake-electron';

vi.mock('electron', async () => (await import('./fake-electron')).electronModule);

let temp: ReturnType<typeof tempDir>;
beforeEach(() => {
  resetFakeElectron();
  temp = tempDir();
});
afterEach(() => temp.remove());

function message(id: number): MessageDetail {
  return {
    id,
    instrumentId: 'chem1',
    protocol: 'astm',
    direction: 'in',
    receivedAt: Date.UTC(2026, 10, 26, 10, 0, id),
    controlId: null,
    sampleIds: [`S${id}`],
    patientIds: ['P1'],
    testCodes: ['GLU'],
    status: 'stored',
    ack: 'ACK',
    resultCount: 1,
    errorCount: 0,
    preview: '',
    size: 10,
    text: '',
    raw: Buffer.from(`raw-${id}`),
    results: [
      {
        sampleId: `S${id}`,
        patientId: 'P1',
        testCode: 'GLU',
        value: id === 1 ? '=cmd()' : '5.4',
        units: 'mmol/L',
        flags: 'N',
        status: 'F',
        observedAt: null,
        qc: false,
      },
    ],
    errors: [],
    dedupeKey: null,
    profile: null,
    qc: false,
  };
}

/** A CSV export of `count` messages, read from a store that counts the reads. */
function csvPlan(count: number) {
  const messages = Array.from({ length: count }, (_, i) => message(i + 1));
  const reads = { pages: 0 };
  const store = {
    queryMessages: (): Page<MessageSummary> => {
      reads.pages++;
      return { items: messages, nextCursor: null };
    },
    getMessage: (id: number) => messages.find((m) => m.id === id) ?? null,
  };
  return { plan: planExport(store, {}, 'csv', 1_000, Date.UTC(2026, 10, 26, 12)), reads };
}

describe('exports on the desktop', () => {
  it('asks where to save, in front of the window, and streams the export into that file', async () => {
    const window = new FakeBrowserWindow({});
    const deliver = exportThroughSaveDialog({
      parent: () => window as unknown as BrowserWindow,
      folder: () => temp.dir,
    });
    const chosen = path.join(temp.dir, 'glucose.csv');
    fake.saveDialogAnswer = chosen;
    const { plan } = csvPlan(3);

    expect(await deliver(plan)).toEqual({
      fileName: 'glucose.csv',
      count: 3,
      savedTo: chosen,
      downloadUrl: null,
    });
    expect(fake.saveDialogs).toHaveLength(1);
    const [shown] = fake.saveDialogs;
    expect(shown!.parent).toBe(window);
    expect(shown!.options.defaultPath).toBe(path.join(temp.dir, 'results-2026-11-26-12-00-00.csv'));
    expect(shown!.options.filters).toEqual([
      { name: 'CSV of results', extensions: ['csv'] },
      { name: 'All files', extensions: ['*'] },
    ]);
    const lines = readFileSync(chosen, 'utf8').trimEnd().split('\r\n');
    expect(lines[0]).toBe(CSV_BOM + CSV_COLUMNS.join(','));
    expect(lines).toHaveLength(4);
    expect(lines[1]).toContain(",'=cmd(),");
    expect(readdirSync(temp.dir)).toEqual(['glucose.csv']);
  });

  it('writes nothing and reads nothing when the dialog is cancelled', async () => {
    const deliver = exportThroughSaveDialog({ parent: () => undefined, folder: () => temp.dir });
    const { plan, reads } = csvPlan(3);
    expect(await deliver(plan)).toEqual({
      fileName: 'results-2026-11-26-12-00-00.csv',
      count: null,
      savedTo: null,
      downloadUrl: null,
    });
    expect(fake.saveDialogs[0]!.parent).toBeNull();
    expect(reads.pages).toBe(0);
    expect(readdirSync(temp.dir)).toEqual([]);
  });

  it('fails with the path and the cause in plain words when the file cannot be written', async () => {
    const deliver = exportThroughSaveDialog({ parent: () => undefined, folder: () => temp.dir });
    const chosen = path.join(temp.dir, 'gone', 'results.csv');
    fake.saveDialogAnswer = chosen;
    await expect(deliver(csvPlan(2).plan)).rejects.toMatchObject({
      code: 'EXPORT_WRITE_FAILED',
      message: `could not write the export to ${chosen}: the folder does not exist (ENOENT)`,
    });
  });
});
