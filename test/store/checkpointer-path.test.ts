import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { unpackedPath } from '../../src-main/store/checkpointer';

describe('the checkpoint thread finds better-sqlite3 in a packaged app', () => {
  const inAsar = path.join(
    '/opt',
    'Gateway',
    'resources',
    'app.asar',
    'node_modules',
    'better-sqlite3',
    'lib',
    'index.js',
  );
  const unpacked = path.join(
    '/opt',
    'Gateway',
    'resources',
    'app.asar.unpacked',
    'node_modules',
    'better-sqlite3',
    'lib',
    'index.js',
  );

  it('loads the unpacked copy when the module lies inside app.asar', () => {
    expect(unpackedPath(inAsar, (file) => file === unpacked)).toBe(unpacked);
  });

  it('keeps the path when there is no unpacked copy, or no archive', () => {
    expect(unpackedPath(inAsar, () => false)).toBe(inAsar);
    const plain = path.join('/work', 'node_modules', 'better-sqlite3', 'lib', 'index.js');
    expect(unpackedPath(plain, () => true)).toBe(plain);
  });
});
