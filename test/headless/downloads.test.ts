import { describe, expect, it } from 'vitest';
import { DOWNLOAD_PATH_PREFIX, DownloadRegistry } from '../../src-main/headless/web';
import type { ExportPlan } from '../../src-main/service/exports';

function plan(fileName = 'results.csv'): ExportPlan {
  return { fileName, mimeType: 'text/csv', chunks: function* () {}, count: 0 };
}

function idOf(downloadUrl: string | null): string {
  expect(downloadUrl?.startsWith(DOWNLOAD_PATH_PREFIX)).toBe(true);
  return downloadUrl!.slice(DOWNLOAD_PATH_PREFIX.length);
}

describe('exports waiting to be downloaded', () => {
  it('answers the export command with a one-time address that cannot be guessed', () => {
    const downloads = new DownloadRegistry();
    const answer = downloads.register(plan());
    expect(answer).toEqual({
      fileName: 'results.csv',
      count: null,
      savedTo: null,
      downloadUrl: expect.stringMatching(/^\/export\/[A-Za-z0-9_-]{32}$/),
    });
    const ids = new Set(
      Array.from({ length: 100 }, () => idOf(downloads.register(plan()).downloadUrl)),
    );
    expect(ids.size).toBe(100);
  });

  it('gives the plan once, then forgets it', () => {
    const downloads = new DownloadRegistry();
    const waiting = plan();
    const id = idOf(downloads.register(waiting).downloadUrl);
    expect(downloads.peek(id)).toBe(waiting);
    expect(downloads.take(id)).toBe(waiting);
    expect(downloads.take(id)).toBeNull();
    expect(downloads.peek(id)).toBeNull();
    expect(downloads.take('not-an-id')).toBeNull();
  });

  it('lets an export lapse when it is not fetched in time', () => {
    let now = 1_000_000;
    const downloads = new DownloadRegistry({ clock: { now: () => now } });
    const id = idOf(downloads.register(plan()).downloadUrl);
    now += 59_999;
    expect(downloads.peek(id)).not.toBeNull();
    now += 1;
    expect(downloads.take(id)).toBeNull();
  });

  it('keeps only so many exports waiting, forgetting the oldest first', () => {
    const downloads = new DownloadRegistry({ maxWaiting: 3 });
    const ids = ['a', 'b', 'c', 'd'].map((name) =>
      idOf(downloads.register(plan(name)).downloadUrl),
    );
    expect(downloads.peek(ids[0]!)).toBeNull();
    expect(ids.slice(1).map((id) => downloads.peek(id)?.fileName)).toEqual(['b', 'c', 'd']);
  });
});
