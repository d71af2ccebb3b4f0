import type { CommandName, CommandResult } from '../../src-shared/contract';

/**
 * Runs a command and never throws: a transport that rejects instead of answering (a bug, or a
 * bridge torn down mid-call) looks to the caller like any other failed command.
 */
export async function call<C extends CommandName>(
  run: () => Promise<CommandResult<C>>,
): Promise<CommandResult<C>> {
  try {
    return await run();
  } catch (error) {
    return {
      ok: false,
      error: {
        code: 'NO_ANSWER',
        message: `the gateway did not answer (${error instanceof Error ? error.message : String(error)})`,
      },
    };
  }
}
