import type { CommandName, CommandRequest, CommandResponse } from '../../src-shared/contract';

/** The handlers of some of the contract's commands; each feature module serves its own. */
export type CommandHandlers<C extends CommandName> = {
  [K in C]: (request: CommandRequest<K>) => Promise<CommandResponse<K>> | CommandResponse<K>;
};
