/**
 * Exports waiting for the browser to fetch them. The export command registers its plan here and
 * answers with `/export/<id>`; the page then downloads that address like any file, and the web
 * server streams the plan from the store as the browser reads. An id is random and unguessable,
 * serves once, and lapses after a short while if the browser never comes.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../protocols/clock';
import type { ExportDelivery, ExportPlan } from '../../service/exports';
import { systemClock } from '../../system-clock';

export const DOWNLOAD_PATH_PREFIX = '/export/';

export interface DownloadOptions {
  /** How long an export waits to be fetched; default 60 s. */
  expiresAfterMs?: number;
  /** Exports waiting at once; past it the oldest is forgotten. Default 64. */
  maxWaiting?: number;
  clock?: Pick<Clock, 'now'>;
}

interface Waiting {
  plan: ExportPlan;
  expiresAt: number;
}

export class DownloadRegistry {
  private readonly waiting = new Map<string, Waiting>();
  private readonly expiresAfterMs: number;
  private readonly maxWaiting: number;
  private readonly clock: Pick<Clock, 'now'>;

  constructor(options: DownloadOptions = {}) {
    this.expiresAfterMs = options.expiresAfterMs ?? 60_000;
    this.maxWaiting = options.maxWaiting ?? 64;
    this.clock = options.clock ?? systemClock;
  }

  /** Offers the plan for one download; the answer the export command gives the page. */
  register(plan: ExportPlan): ExportDelivery {
    this.forgetExpired();
    while (this.waiting.size >= this.maxWaiting) {
      const oldest = this.waiting.keys().next().value;
      if (oldest === undefined) break;
      this.waiting.delete(oldest);
    }
    // 192 bits: the id is the only thing that ties a download to the page that asked for it.
    const id = randomBytes(24).toString('base64url');
    this.waiting.set(id, { plan, expiresAt: this.clock.now() + this.expiresAfterMs });
    return {
      fileName: plan.fileName,
      count: null,
      savedTo: null,
      downloadUrl: `${DOWNLOAD_PATH_PREFIX}${id}`,
    };
  }

  /** The plan for this id, forgotten from now on; null when unknown or expired. */
  take(id: string): ExportPlan | null {
    const plan = this.peek(id);
    this.waiting.delete(id);
    return plan;
  }

  /** The plan for this id, still waiting (a HEAD request does not use up the download). */
  peek(id: string): ExportPlan | null {
    const entry = this.waiting.get(id);
    if (!entry) return null;
    if (this.clock.now() >= entry.expiresAt) {
      this.waiting.delete(id);
      return null;
    }
    return entry.plan;
  }

  private forgetExpired(): void {
    const now = this.clock.now();
    for (const [id, entry] of this.waiting) {
      if (now >= entry.expiresAt) this.waiting.delete(id);
    }
  }
}
