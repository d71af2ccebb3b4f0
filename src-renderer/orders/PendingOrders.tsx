import { useEffect, useState } from 'react';
import { ordersApi } from './orders-api';

const REFRESH_MS = 10_000;

/** Pending orders per instrument ('' for any), refreshed every few seconds while shown. */
export function usePendingOrderCounts(): Record<string, number> {
  const [counts, setCounts] = useState<Record<string, number>>({});
  useEffect(() => {
    let live = true;
    const load = () =>
      void ordersApi.pendingCounts().then((answer) => {
        if (live && answer.ok) setCounts(answer.value);
      });
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, []);
  return counts;
}

/** The line on an instrument card: orders waiting for it, and those any instrument may run. */
export function PendingOrders({ instrumentId }: { instrumentId: string }) {
  const counts = usePendingOrderCounts();
  const mine = counts[instrumentId] ?? 0;
  const any = counts[''] ?? 0;
  return (
    <div>
      <dt>Pending orders</dt>
      <dd data-testid="pending-orders">
        {mine} for it{any > 0 ? ` · ${any} for any instrument` : ''}
      </dd>
    </div>
  );
}
