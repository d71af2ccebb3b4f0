import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../fixtures/profiles/generate';
import { BUILT_IN_PROFILES } from '../../src-shared/profiles';
import { FIXTURE_DIR, PROFILE_FIXTURES, fixtureBytes } from './fixtures';

describe('the profile fixtures', () => {
  it('are the bytes their generator writes', () => {
    const files = readdirSync(fileURLToPath(FIXTURE_DIR)).filter((f) => f.endsWith('.astm'));
    expect(files.sort()).toEqual(Object.keys(FIXTURES).sort());
    for (const [name, bytes] of Object.entries(FIXTURES)) {
      expect(Buffer.compare(fixtureBytes(name), bytes), name).toBe(0);
    }
  });

  it('cover every built-in profile', () => {
    const covered = new Set(PROFILE_FIXTURES.map((f) => f.profile));
    expect(BUILT_IN_PROFILES.map((p) => p.name).filter((name) => !covered.has(name))).toEqual([]);
  });
});
