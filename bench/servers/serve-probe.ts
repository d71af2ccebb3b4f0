/**
 * Loaded into `serve` with `--import` (the process forked with an IPC channel): measures how
 * late the event loop runs, from inside, where only it can be seen. `reset` starts a fresh
 * measurement; `report` answers with the figures so far.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

export type ProbeCommand = { cmd: 'reset' } | { cmd: 'report' };

export interface ProbeReport {
  type: 'probe';
  /** How much later than due the sampling timer ran, ms. */
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
  lagMeanMs: number;
  samples: number;
  /** process.memoryUsage() when reported. */
  memory: NodeJS.MemoryUsage;
}

const RESOLUTION_MS = 10;
const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
histogram.enable();

process.on('message', (command: ProbeCommand) => {
  if (command.cmd === 'reset') {
    histogram.reset();
    return;
  }
  // The histogram holds the time between two runs of its timer: the period plus the delay.
  const ms = (ns: number) => Math.max(0, ns / 1e6 - RESOLUTION_MS);
  process.send?.({
    type: 'probe',
    lagP50Ms: ms(histogram.percentile(50)),
    lagP99Ms: ms(histogram.percentile(99)),
    lagMaxMs: ms(histogram.max),
    lagMeanMs: ms(histogram.mean),
    samples: histogram.count,
    memory: process.memoryUsage(),
  } satisfies ProbeReport);
});

// Without this the channel alone would keep the process alive, also when `serve` has finished
// or refused its configuration.
process.channel?.unref();
