/**
 * Where the desktop app finds its parts. `appRoot` is the checkout when run with `electron .`
 * and the app.asar archive in an installed app; both hold the same `dist/` tree.
 */
import path from 'node:path';

export interface DesktopPaths {
  preload: string;
  rendererIndex: string;
  dbFile: string;
}

export function desktopPaths(appRoot: string, userData: string): DesktopPaths {
  return {
    preload: path.join(appRoot, 'dist', 'main', 'preload.cjs'),
    rendererIndex: path.join(appRoot, 'dist', 'renderer', 'index.html'),
    dbFile: path.join(userData, 'gateway.sqlite'),
  };
}
