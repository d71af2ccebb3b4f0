/** The Electron entry point (bundled to dist/main/electron-main.cjs). */
import { app } from 'electron';
import { startDesktopApp } from './desktop-app';
import { openDesktopRuntime } from './runtime';

startDesktopApp({ openRuntime: openDesktopRuntime, argv: process.argv });

// Ctrl-C in the terminal running `npm start` closes the gateway as the Quit menu does.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => app.quit());
