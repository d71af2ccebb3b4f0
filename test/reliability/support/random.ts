/**
 * A seeded generator, so a failing fuzz or kill -9 run can be replayed from the seed printed in
 * its assertion messages. mulberry32: small, fast, and good enough for choosing test inputs.
 */
export interface Rng {
  readonly seed: number;
  /** In [0, 1), like Math.random. */
  next(): number;
  /** A whole number in [low, high], both included. */
  int(low: number, high: number): number;
  chance(probability: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** `length` bytes, each drawn from `allowed` when given. */
  bytes(length: number, allowed?: readonly number[]): Buffer;
  /** An independent generator whose seed is drawn from this one. */
  fork(): Rng;
}

export function seededRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (low: number, high: number): number => low + Math.floor(next() * (high - low + 1));
  return {
    seed,
    next,
    int,
    chance: (probability) => next() < probability,
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    bytes(length, allowed) {
      const out = Buffer.allocUnsafe(length);
      for (let i = 0; i < length; i++) {
        out[i] = allowed ? allowed[Math.floor(next() * allowed.length)]! : int(0, 255);
      }
      return out;
    },
    fork: () => seededRng(int(0, 0xffff_ffff)),
  };
}

/** The seed from RELIABILITY_SEED when set (to replay a failure), otherwise a fresh one. */
export function chooseSeed(): number {
  const fromEnv = process.env.RELIABILITY_SEED;
  if (fromEnv && /^\d+$/.test(fromEnv)) return Number(fromEnv) >>> 0;
  return (Date.now() ^ (process.pid << 16)) >>> 0;
}

/** Cuts `bytes` into pieces of random sizes, as a network might deliver them. */
export function randomChunks(bytes: Buffer, rng: Rng, maxPieces = 6): Buffer[] {
  if (bytes.length <= 1 || maxPieces <= 1) return [bytes];
  const pieces = rng.int(1, Math.min(maxPieces, bytes.length));
  const cuts = new Set<number>();
  while (cuts.size < pieces - 1) cuts.add(rng.int(1, bytes.length - 1));
  const sorted = [...cuts].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let start = 0;
  for (const cut of [...sorted, bytes.length]) {
    out.push(bytes.subarray(start, cut));
    start = cut;
  }
  return out;
}
