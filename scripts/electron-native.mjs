#!/usr/bin/env node
/**
 * Builds better-sqlite3 for Electron's ABI into build/electron-native/better_sqlite3.node, which
 * the desktop app passes to better-sqlite3's `nativeBinding` option when run from a checkout.
 *
 * node_modules/better-sqlite3 keeps its build for Node (tests, command line, headless gateway):
 * the package is copied to a work folder and rebuilt there with @electron/rebuild, which fetches
 * a prebuilt binary or Electron's headers and compiles. So the first run needs the network, and a
 * C++ toolchain when no prebuilt binary fits. Later runs skip the work while the output still
 * matches the installed Electron and better-sqlite3 (recorded in a stamp file).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'build', 'electron-native');
const output = path.join(outDir, 'better_sqlite3.node');
const stampFile = path.join(outDir, 'stamp.json');
// Inside the checkout so that @electron/rebuild finds prebuild-install in the root node_modules.
const workDir = path.join(outDir, 'work');

/**
 * What a build is for: a changed Electron, better-sqlite3, platform or architecture needs a new
 * one.
 * @typedef {{ electron: string, betterSqlite3: string, platform: string, arch: string }} Target
 */

/**
 * Whether the output must be (re)built, and why, in words for the terminal.
 * @param {{
 *   wanted: Target,
 *   stamp: Partial<Target> | null,
 *   outputMtimeMs: number | null,
 *   packageMtimeMs: number,
 * }} state `outputMtimeMs` is null when there is no output; `packageMtimeMs` is when the
 *   better-sqlite3 package was installed.
 * @returns {{ rebuild: boolean, reason: string }}
 */
export function rebuildDecision({ wanted, stamp, outputMtimeMs, packageMtimeMs }) {
  if (outputMtimeMs === null) return { rebuild: true, reason: 'no Electron build yet' };
  if (!stamp) return { rebuild: true, reason: 'the existing build is not stamped' };
  for (const key of /** @type {(keyof Target)[]} */ ([
    'electron',
    'betterSqlite3',
    'platform',
    'arch',
  ])) {
    if (stamp[key] !== wanted[key]) {
      return {
        rebuild: true,
        reason: `${key} changed from ${stamp[key] ?? 'unknown'} to ${wanted[key]}`,
      };
    }
  }
  if (outputMtimeMs < packageMtimeMs) {
    return { rebuild: true, reason: 'better-sqlite3 was reinstalled after the last build' };
  }
  return { rebuild: false, reason: `up to date for Electron ${wanted.electron}` };
}

/** @param {string} file */
function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** @param {string} file */
function mtimeOrNull(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return null;
  }
}

/** @returns {{ target: Target, packageDir: string, packageMtimeMs: number }} */
function installed() {
  const require = createRequire(path.join(root, 'package.json'));
  let electronPackage;
  try {
    electronPackage = require.resolve('electron/package.json');
  } catch {
    throw new Error('the electron package is not installed: run npm install');
  }
  const packageDir = path.dirname(require.resolve('better-sqlite3/package.json'));
  return {
    target: {
      electron: readJson(electronPackage).version,
      betterSqlite3: readJson(path.join(packageDir, 'package.json')).version,
      platform: process.platform,
      arch: process.arch,
    },
    packageDir,
    // npm gives packaged files a fixed old mtime; the folder's own time says when it was installed.
    packageMtimeMs: fs.statSync(packageDir).mtimeMs,
  };
}

/**
 * @param {string} packageDir
 * @param {Target} target
 */
async function rebuildCopy(packageDir, target) {
  fs.rmSync(workDir, { recursive: true, force: true });
  const copy = path.join(workDir, 'node_modules', 'better-sqlite3');
  // Without the Node build, nothing can mistake it for the Electron one.
  fs.cpSync(packageDir, copy, {
    recursive: true,
    filter: (source) => path.relative(packageDir, source).split(path.sep)[0] !== 'build',
  });
  fs.writeFileSync(
    path.join(workDir, 'package.json'),
    JSON.stringify({
      name: 'electron-native-work',
      private: true,
      dependencies: { 'better-sqlite3': target.betterSqlite3 },
    }),
  );
  const { rebuild } = await import('@electron/rebuild');
  await rebuild({
    buildPath: workDir,
    projectRootPath: workDir,
    electronVersion: target.electron,
    arch: target.arch,
    platform: /** @type {NodeJS.Platform} */ (target.platform),
    onlyModules: ['better-sqlite3'],
    force: true,
    mode: 'sequential',
  });
  const built = path.join(copy, 'build', 'Release', 'better_sqlite3.node');
  if (!fs.existsSync(built)) throw new Error(`the rebuild finished without producing ${built}`);
  return built;
}

async function main() {
  const { target, packageDir, packageMtimeMs } = installed();
  const stamp = fs.existsSync(stampFile) ? readJson(stampFile) : null;
  const decision = rebuildDecision({
    wanted: target,
    stamp,
    outputMtimeMs: mtimeOrNull(output),
    packageMtimeMs,
  });
  if (!decision.rebuild) {
    console.log(`SQLite module for Electron: ${decision.reason}`);
    return 0;
  }
  console.log(
    `SQLite module for Electron: building better-sqlite3 ${target.betterSqlite3} for Electron ` +
      `${target.electron} (${target.platform}-${target.arch}): ${decision.reason}`,
  );
  try {
    const built = await rebuildCopy(packageDir, target);
    fs.mkdirSync(outDir, { recursive: true });
    fs.rmSync(stampFile, { force: true });
    fs.copyFileSync(built, output);
    fs.writeFileSync(stampFile, `${JSON.stringify(target, null, 2)}\n`);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    console.error(
      [
        `Could not build better-sqlite3 for Electron ${target.electron}: ${detail}`,
        '',
        'This step downloads a prebuilt binary or the Electron headers, so it needs the network,',
        'and it compiles when no prebuilt binary fits (python3, make and a C++ compiler on Linux;',
        'Xcode command line tools on macOS; Visual Studio Build Tools on Windows).',
        'node_modules was not changed: the tests, the command line and `npm run demo` still work.',
      ].join('\n'),
    );
    return 1;
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
  console.log(`SQLite module for Electron: ${path.relative(root, output)}`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().then(
    (code) => (process.exitCode = code),
    (error) => {
      console.error(`electron-native: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    },
  );
}
