/**
 * The gateway as the desktop app runs it: instruments from the database (edited in the UI), the
 * command service for the window, and the demo instruments on request. Closing stops the demo
 * first, so its instruments are not left saved without their simulated analyzers.
 */
import { createGatewayRuntime } from '../app';
import { DemoControl } from '../demo/demo';
import type { DesktopRuntime, DesktopRuntimeOptions } from './desktop-app';

export function openDesktopRuntime(options: DesktopRuntimeOptions): DesktopRuntime {
  let demo: DemoControl | null = null;
  const runtime = createGatewayRuntime({
    dbFile: options.dbFile,
    ...(options.nativeBinding ? { nativeBinding: options.nativeBinding } : {}),
    runtime: 'electron',
    version: options.version,
    deliverExport: options.deliverExport,
    startDemo: (gateway) => {
      demo ??= new DemoControl(gateway);
      return demo.start();
    },
    onSkippedInstrument: (id, problem) =>
      console.error(
        `instrument "${id}" was not started: its saved settings are invalid: ${problem}`,
      ),
  });
  return {
    service: runtime.service,
    close: async (deadlineMs) => {
      const started = Date.now();
      await demo?.stop();
      await runtime.close(Math.max(1_000, deadlineMs - (Date.now() - started)));
    },
  };
}
