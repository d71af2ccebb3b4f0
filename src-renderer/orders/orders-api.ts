/** The Orders page's calls to the gateway, each answering a value or plain words. */
import type { CommandName, CommandRequest, CommandResult } from '../../src-shared/contract';
import { getApi } from '../api';
import { call } from '../store/call';

export type Answer<T> = { ok: true; value: T } | { ok: false; message: string };

async function answer<C extends CommandName>(
  run: () => Promise<CommandResult<C>>,
): Promise<Answer<Extract<CommandResult<C>, { ok: true }>['value']>> {
  const result = await call<C>(run);
  return result.ok
    ? { ok: true, value: result.value }
    : { ok: false, message: result.error.message };
}

export const ordersApi = {
  list: (request: CommandRequest<'listOrders'>) =>
    answer<'listOrders'>(() => getApi().listOrders(request)),
  add: (request: CommandRequest<'addOrder'>) =>
    answer<'addOrder'>(() => getApi().addOrder(request)),
  cancel: (id: number) => answer<'cancelOrder'>(() => getApi().cancelOrder({ id })),
  pendingCounts: () => answer<'getPendingOrderCounts'>(() => getApi().getPendingOrderCounts({})),
  sources: () => answer<'listOrderSources'>(() => getApi().listOrderSources({})),
};
