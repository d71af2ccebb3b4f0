/**
 * Which better_sqlite3.node the desktop app loads. node_modules holds the build for Node (tests,
 * command line, headless gateway), so a checkout run under Electron loads a second build made for
 * Electron's ABI by scripts/electron-native.mjs. An installed app carries a copy rebuilt for
 * Electron by electron-builder, which better-sqlite3 finds by itself.
 */
import fs from 'node:fs';
import path from 'node:path';

/** Relative to the checkout; scripts/electron-native.mjs writes it there. */
export const ELECTRON_NATIVE_BINDING = path.join('build', 'electron-native', 'better_sqlite3.node');

export function nativeBindingFor(options: {
  isPackaged: boolean;
  appRoot: string;
  exists?: (file: string) => boolean;
}): string | undefined {
  if (options.isPackaged) return undefined;
  const file = path.join(options.appRoot, ELECTRON_NATIVE_BINDING);
  if (!(options.exists ?? fs.existsSync)(file)) {
    throw new Error(
      `the SQLite module has not been built for Electron (${file} is missing): ` +
        'run "node scripts/electron-native.mjs", which "npm start" does first',
    );
  }
  return file;
}
