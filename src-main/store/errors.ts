/**
 * Coded storage errors. The code is stable for the gateway (which picks NAK / AE / AR from it) and
 * for tests; the message is for a bench technician: what could not be done, and why.
 */
export type StoreErrorCode =
  | 'STORE_WRITE_FAILED'
  | 'STORE_READ_FAILED'
  | 'STORE_READONLY'
  | 'STORE_FULL'
  | 'STORE_BUSY'
  | 'STORE_IO'
  | 'STORE_CORRUPT'
  | 'STORE_OPEN_FAILED'
  | 'STORE_TOO_NEW'
  | 'STORE_CLOSED'
  | 'STORE_INVALID'
  | 'STORE_BAD_CURSOR';

export class StoreError extends Error {
  override readonly name = 'StoreError';

  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** SQLite result codes (better-sqlite3 puts them in `error.code`) and what they mean on a bench. */
const reasons: readonly [prefix: string, code: StoreErrorCode, reason: string][] = [
  ['SQLITE_FULL', 'STORE_FULL', 'the disk is full'],
  ['SQLITE_READONLY', 'STORE_READONLY', 'the database file is read-only'],
  ['SQLITE_PERM', 'STORE_READONLY', 'the database file may not be written'],
  ['SQLITE_BUSY', 'STORE_BUSY', 'the database is locked by another program'],
  ['SQLITE_LOCKED', 'STORE_BUSY', 'the database is locked by another program'],
  ['SQLITE_IOERR', 'STORE_IO', 'the disk reported a read or write error'],
  ['SQLITE_CORRUPT', 'STORE_CORRUPT', 'the database file is damaged'],
  ['SQLITE_NOTADB', 'STORE_CORRUPT', 'the file is not a gateway database'],
  ['SQLITE_CANTOPEN', 'STORE_OPEN_FAILED', 'the database file cannot be opened'],
];

/**
 * Wraps whatever a write threw into a StoreError saying what could not be done ("save the
 * message", "purge old data") and why, in words; the original error is kept as `cause`.
 */
export function storeErrorFrom(
  error: unknown,
  action: string,
  fallback: StoreErrorCode = 'STORE_WRITE_FAILED',
): StoreError {
  if (error instanceof StoreError) return error;
  const sqliteCode = codeOf(error);
  const known = sqliteCode ? reasons.find(([prefix]) => sqliteCode.startsWith(prefix)) : undefined;
  if (known) return new StoreError(known[1], `could not ${action}: ${known[2]}`, { cause: error });
  const detail = error instanceof Error ? error.message : String(error);
  return new StoreError(fallback, `could not ${action}: ${detail}`, { cause: error });
}

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const code = (error as { code: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

export type SimulatedFault = 'full' | 'readonly' | 'io' | 'busy';

const faultCodes: Record<SimulatedFault, [code: string, message: string]> = {
  full: ['SQLITE_FULL', 'database or disk is full'],
  readonly: ['SQLITE_READONLY', 'attempt to write a readonly database'],
  io: ['SQLITE_IOERR_WRITE', 'disk I/O error'],
  busy: ['SQLITE_BUSY', 'database is locked'],
};

/**
 * An error shaped like the one SQLite raises for `fault`, for fault injectors in tests of the
 * store and of the layers above it.
 */
export function simulatedFault(fault: SimulatedFault): Error {
  const [code, message] = faultCodes[fault];
  return Object.assign(new Error(message), { code });
}
