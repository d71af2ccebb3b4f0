/**
 * What "the process stays up and bounded" means in numbers: uncaught errors seen, heap and RSS
 * after a full collection, and the handles Node keeps alive (sockets, servers, timers).
 */
import v8 from 'node:v8';
import vm from 'node:vm';

/** Collects every uncaught exception and unhandled rejection until `stop()`. */
export function watchUncaught(): { errors: unknown[]; stop: () => void } {
  const errors: unknown[] = [];
  const onError = (error: unknown) => errors.push(error);
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  return {
    errors,
    stop: () => {
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
    },
  };
}

let collector: (() => void) | null = null;

/** A full garbage collection, so heap figures show what is retained rather than what is pending. */
export function collectGarbage(): void {
  if (!collector) {
    // The flag only has to be on while the function is created; later collections work either way.
    v8.setFlagsFromString('--expose-gc');
    collector = vm.runInNewContext('gc') as () => void;
  }
  collector();
  collector();
}

export interface MemoryFigures {
  heapUsedMiB: number;
  rssMiB: number;
  /** Buffers and other memory outside the JavaScript heap. */
  externalMiB: number;
  arrayBuffersMiB: number;
}

export function memoryNow(collect = true): MemoryFigures {
  if (collect) collectGarbage();
  const usage = process.memoryUsage();
  const mib = (bytes: number) => Math.round((bytes / 1_048_576) * 10) / 10;
  return {
    heapUsedMiB: mib(usage.heapUsed),
    rssMiB: mib(usage.rss),
    externalMiB: mib(usage.external),
    arrayBuffersMiB: mib(usage.arrayBuffers),
  };
}

/** Samples memory every `everyMs` without collecting, and keeps the highest figures seen. */
export function trackPeakMemory(everyMs = 50): { peak: MemoryFigures; stop: () => MemoryFigures } {
  const peak = memoryNow(false);
  const sample = () => {
    const now = memoryNow(false);
    peak.heapUsedMiB = Math.max(peak.heapUsedMiB, now.heapUsedMiB);
    peak.rssMiB = Math.max(peak.rssMiB, now.rssMiB);
    peak.externalMiB = Math.max(peak.externalMiB, now.externalMiB);
    peak.arrayBuffersMiB = Math.max(peak.arrayBuffersMiB, now.arrayBuffersMiB);
  };
  const timer = setInterval(sample, everyMs);
  timer.unref();
  return {
    peak,
    stop: () => {
      clearInterval(timer);
      sample();
      return { ...peak };
    },
  };
}

/** Counts of the resources keeping the event loop alive, by kind ("TCPSocketWrap", "Timeout"…). */
export function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) {
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return counts;
}

/** Kinds whose count grew from `before` to `after`, e.g. `TCPSocketWrap +3`. */
export function resourceGrowth(before: Map<string, number>, after: Map<string, number>): string[] {
  const grown: string[] = [];
  for (const [kind, count] of after) {
    const was = before.get(kind) ?? 0;
    if (count > was) grown.push(`${kind} +${count - was}`);
  }
  return grown.sort();
}

export function formatResources(counts: Map<string, number>): string {
  return (
    [...counts]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([kind, count]) => `${kind}×${count}`)
      .join(', ') || 'none'
  );
}
