import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

interface Target {
  electron: string;
  betterSqlite3: string;
  platform: string;
  arch: string;
}
interface NativeScript {
  rebuildDecision(state: {
    wanted: Target;
    stamp: Partial<Target> | null;
    outputMtimeMs: number | null;
    packageMtimeMs: number;
  }): { rebuild: boolean; reason: string };
}

let rebuildDecision: NativeScript['rebuildDecision'];
beforeAll(async () => {
  const script = path.resolve(import.meta.dirname, '../../scripts/electron-native.mjs');
  ({ rebuildDecision } = (await import(pathToFileURL(script).href)) as NativeScript);
});

const wanted: Target = {
  electron: '45.5.0',
  betterSqlite3: '12.11.1',
  platform: 'linux',
  arch: 'x64',
};
const installedAt = 1_000;

describe('scripts/electron-native.mjs decides when to rebuild', () => {
  it('skips a stamped build that is newer than the installed package', () => {
    expect(
      rebuildDecision({
        wanted,
        stamp: { ...wanted },
        outputMtimeMs: 2_000,
        packageMtimeMs: installedAt,
      }),
    ).toEqual({ rebuild: false, reason: 'up to date for Electron 45.5.0' });
  });

  it('builds when there is no output, or an output without a stamp', () => {
    expect(
      rebuildDecision({
        wanted,
        stamp: { ...wanted },
        outputMtimeMs: null,
        packageMtimeMs: installedAt,
      }).rebuild,
    ).toBe(true);
    expect(
      rebuildDecision({ wanted, stamp: null, outputMtimeMs: 2_000, packageMtimeMs: installedAt }),
    ).toEqual({ rebuild: true, reason: 'the existing build is not stamped' });
  });

  it('rebuilds for another Electron, better-sqlite3, platform or architecture', () => {
    for (const [key, value] of [
      ['electron', '46.0.0'],
      ['betterSqlite3', '12.12.0'],
      ['platform', 'darwin'],
      ['arch', 'arm64'],
    ] as const) {
      const decision = rebuildDecision({
        wanted: { ...wanted, [key]: value },
        stamp: { ...wanted },
        outputMtimeMs: 2_000,
        packageMtimeMs: installedAt,
      });
      expect(decision).toEqual({
        rebuild: true,
        reason: `${key} changed from ${wanted[key]} to ${value}`,
      });
    }
  });

  it('rebuilds when better-sqlite3 was reinstalled after the last build', () => {
    expect(
      rebuildDecision({
        wanted,
        stamp: { ...wanted },
        outputMtimeMs: 2_000,
        packageMtimeMs: 3_000,
      }),
    ).toEqual({ rebuild: true, reason: 'better-sqlite3 was reinstalled after the last build' });
  });
});
