import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from './ports';

/**
 * Two connected pseudo-terminals made by socat, reachable under stable names in `dir`: what one
 * side writes the other reads, as over a null-modem cable. `stop()` tears the pair down (both
 * names vanish); `start()` makes it again under the same names (new devices behind them).
 */
export class PtyPair {
  readonly gateway: string;
  readonly analyzer: string;
  private child: ChildProcess | null = null;

  constructor(dir: string) {
    this.gateway = path.join(dir, 'gateway-side');
    this.analyzer = path.join(dir, 'analyzer-side');
  }

  async start(): Promise<void> {
    if (this.child) return;
    const child = spawn(
      'socat',
      [`pty,raw,echo=0,link=${this.gateway}`, `pty,raw,echo=0,link=${this.analyzer}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let failure = '';
    child.stderr?.on('data', (chunk: Buffer) => (failure += chunk.toString()));
    child.on(
      'error',
      (error) =>
        (failure += `could not run socat (${error.message}); install the Debian package socat`),
    );
    this.child = child;
    await waitFor(
      () => {
        if (failure && child.exitCode !== null) throw new Error(`socat: ${failure}`);
        if (failure.includes('could not run socat')) throw new Error(failure);
        return existsSync(this.gateway) && existsSync(this.analyzer);
      },
      'socat to make the pty pair',
      5_000,
    );
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await waitFor(
      () => !existsSync(this.gateway) && !existsSync(this.analyzer),
      'the pty names to go',
    );
  }
}
