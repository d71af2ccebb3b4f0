import type { Order } from '../../src-shared/orders';

/** In a message's detail: the orders its results moved, and where each stands now. */
export function OrdersResulted({ orders }: { orders: Order[] }) {
  return (
    <>
      <dt>Orders</dt>
      <dd data-testid="message-orders">
        <ul className="history-problems">
          {orders.map((order) => (
            <li key={order.id}>
              <span className="history-mono">{order.sampleId}</span>:{' '}
              {order.state === 'resulted'
                ? 'resulted'
                : `partially resulted (${order.resultedTests.length} of ${order.tests.length} tests)`}{' '}
              <span className="muted">({order.tests.join(', ')})</span>
            </li>
          ))}
        </ul>
      </dd>
    </>
  );
}
