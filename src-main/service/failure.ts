import type { CommandError } from '../../src-shared/contract';

/** A command that cannot be carried out, in plain words; `fields` point at form inputs. */
export class CommandFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly fields?: { field: string; message: string }[],
  ) {
    super(message);
  }
}

/** Whatever a handler threw, as the coded error the contract carries. */
export function toCommandError(error: unknown): CommandError {
  if (error instanceof CommandFailure) {
    return {
      code: error.code,
      message: error.message,
      ...(error.fields ? { fields: error.fields } : {}),
    };
  }
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'string') {
    return { code: error.code, message: String((error as { message?: unknown }).message ?? error) };
  }
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}
