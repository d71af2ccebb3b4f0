/** The Orders page: worklists, orders added by hand, cancellations, history. */
import type { OrderStore } from '../store/store';
import { CommandFailure } from './failure';
import type { CommandHandlers } from './handlers';

export type OrderCommand =
  'listOrders' | 'addOrder' | 'cancelOrder' | 'getOrderHistory' | 'getPendingOrderCounts';

export function orderCommands(
  store: OrderStore,
  /** Orders were added: instruments that take pushed worklists get them now. */
  ordersArrived: () => void,
): CommandHandlers<OrderCommand> {
  return {
    listOrders: (filter) => store.listOrders(filter),
    addOrder: (request) => {
      const [outcome] = store.applyOrders([
        {
          action: 'new',
          sampleId: request.sampleId,
          tests: request.tests,
          patientId: request.patientId || null,
          patientName: request.patientName || null,
          priority: request.priority ?? null,
          instrumentId: request.instrumentId ?? null,
          source: 'manual',
        },
      ]);
      const order = outcome?.orderId ? store.getOrder(outcome.orderId) : null;
      if (!order) throw new CommandFailure('ORDER_NOT_STORED', 'the order was not stored');
      ordersArrived();
      return order;
    },
    cancelOrder: ({ id }) => {
      const order = store.getOrder(id);
      if (!order) throw new CommandFailure('NOT_FOUND', `order ${id} does not exist`);
      if (!store.cancelOrder(id, 'a user')) {
        throw new CommandFailure(
          'ORDER_NOT_OPEN',
          `order ${id} for sample ${order.sampleId} is ${order.state} and can no longer be cancelled`,
        );
      }
      // An instrument that was pushed the order is told it is cancelled.
      ordersArrived();
      return store.getOrder(id)!;
    },
    getOrderHistory: ({ id }) => store.orderHistory(id),
    getPendingOrderCounts: () => store.pendingOrderCounts(),
  };
}
