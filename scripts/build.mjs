#!/usr/bin/env node
/**
 * Builds what the desktop app, the `lab-gateway` program and the headless server load:
 *   dist/main/electron-main.cjs and dist/main/preload.cjs  (esbuild)
 *   dist/cli/lab-gateway.js and its chunks                 (esbuild)
 *   dist/renderer/                                         (Vite, src-renderer/vite.config.ts)
 *
 *   node scripts/build.mjs                  everything
 *   node scripts/build.mjs --cli            only the command line
 *   node scripts/build.mjs --renderer       only the renderer (for the headless server)
 *   node scripts/build.mjs --cli --renderer what `npm install` builds (see `prepare`)
 *
 * No Electron binary is needed: `electron` stays an external require resolved at run time.
 */
import { rm } from 'node:fs/promises';
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
    // better-sqlite3 and serialport carry native modules: they are loaded from node_modules (or
    // app.asar.unpacked), where their bindings sit beside their code.
    external: ['electron', 'better-sqlite3', 'serialport'],
    sourcemap: 'linked',
    logLevel,
  });
}

/** The `lab-gateway` program that package.json's `bin` names. */
const cliEntry = path.join(root, 'dist', 'cli', 'lab-gateway.js');

/**
 * The command line for plain Node, as ES modules split so that the entry holds only the argument
 * handling: each command's code (and zod, SQLite, the gateway) loads when that command runs,
 * which keeps `--help` fast. Packages stay imports resolved from node_modules.
 */
export async function buildCli({ outdir = path.dirname(cliEntry), logLevel = 'info' } = {}) {
  const esbuild = await import('esbuild');
  // Chunk names carry content hashes: without this, chunks of earlier builds would pile up.
  await rm(outdir, { recursive: true, force: true });
  await esbuild.build({
    absWorkingDir: root,
    // main.ts starts with a shebang, which esbuild keeps and answers with the executable bit:
    // npm's bin links and service units run the file itself.
    entryPoints: { 'lab-gateway': 'src-main/headless/main.ts' },
    outdir,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
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
  const unknown = argv.filter((arg) => arg !== '--cli' && arg !== '--renderer');
  if (unknown.length > 0) {
    console.error(
      `build: unknown option ${unknown.join(' ')}\nUsage: node scripts/build.mjs [--cli] [--renderer]`,
    );
    return 2;
  }
  const everything = argv.length === 0;
  if (everything) await buildMain();
  if (everything || argv.includes('--cli')) await buildCli();
  if (everything || argv.includes('--renderer')) await buildRenderer();
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
