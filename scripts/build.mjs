#!/usr/bin/env node
/**
 * Builds what the desktop app and the headless server load:
 *   dist/main/electron-main.cjs and dist/main/preload.cjs  (esbuild)
 *   dist/renderer/                                         (Vite, src-renderer/vite.config.ts)
 *
 *   node scripts/build.mjs              everything
 *   node scripts/build.mjs --renderer   only the renderer (for the headless server)
 *
 * No Electron binary is needed: `electron` stays an external require resolved at run time.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The main process and the preload, each bundled into one CommonJS file. The preload must be a
 * single file because a sandboxed preload can require nothing but `electron`.
 */
export async function buildMain({
  outdir = path.join(root, 'dist', 'main'),
  logLevel = 'info',
} = {}) {
  const esbuild = await import('esbuild');
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: {
      'electron-main': 'src-main/electron/main.ts',
      preload: 'src-main/electron/preload.ts',
    },
    outdir,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // better-sqlite3 is a native module: it is loaded from node_modules (or app.asar.unpacked).
    external: ['electron', 'better-sqlite3'],
    sourcemap: 'linked',
    logLevel,
  });
}

/** The React UI, with the renderer's own Vite config; false when there is none. */
export async function buildRenderer({ logLevel = 'info' } = {}) {
  const configFile = path.join(root, 'src-renderer', 'vite.config.ts');
  if (!existsSync(configFile)) {
    console.warn(`renderer skipped: ${path.relative(root, configFile)} does not exist`);
    return false;
  }
  const vite = await import('vite');
  await vite.build({ configFile, logLevel });
  return true;
}

async function main(argv) {
  const unknown = argv.filter((arg) => arg !== '--renderer');
  if (unknown.length > 0) {
    console.error(
      `build: unknown option ${unknown.join(' ')}\nUsage: node scripts/build.mjs [--renderer]`,
    );
    return 2;
  }
  if (!argv.includes('--renderer')) await buildMain();
  await buildRenderer();
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error) => {
      // esbuild and Vite have already printed the details of a failed build.
      console.error(`build failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    },
  );
}
