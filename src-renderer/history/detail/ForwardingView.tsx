/**
 * The Forwarding tab: where the message went, and every attempt (time, what was sent, what the
 * destination answered), with "Send again".
 */
import { useEffect, useState } from 'react';
import type { MessageForwarding } from '../../../src-shared/outbox';
import { getApi } from '../../api';
import { call } from '../../store/call';
import { formatFullTime } from '../words';

const STATE_WORDS = {
  pending: 'Waiting to be delivered',
  delivered: 'Delivered',
  failed: 'Failed',
  held: 'Held',
} as const;

const OUTCOME_WORDS = {
  delivered: 'delivered',
  failed: 'refused',
  retry: 'not delivered',
} as const;

export function ForwardingView({ messageId }: { messageId: number }) {
  const [items, setItems] = useState<MessageForwarding[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const [version, setVersion] = useState(0);

  useEffect(() => {
    let live = true;
    void call(() => getApi().getMessageForwarding({ messageId })).then((result) => {
      if (!live) return;
      if (result.ok) {
        setItems(result.value);
        setProblem(null);
      } else setProblem(result.error.message);
    });
    return () => {
      live = false;
    };
  }, [messageId, version]);

  const resend = async (destinationId: string) => {
    const result = await call(() => getApi().resendMessage({ messageId, destinationId }));
    setNotice(result.ok ? `Sent again to ${destinationId}.` : result.error.message);
    setVersion((n) => n + 1);
  };

  if (problem) return <p className="history-problem">Could not read the deliveries: {problem}</p>;
  if (items === null) return <p className="history-empty">Loading the deliveries…</p>;
  if (items.length === 0) {
    return (
      <p className="history-empty">
        This message is not forwarded: its instrument names no destination for it.
      </p>
    );
  }
  return (
    <div className="history-forwarding-tab">
      {notice && (
        <p className="muted" role="status">
          {notice}
        </p>
      )}
      {items.map(({ entry, attempts }) => (
        <section key={entry.destinationId} aria-label={`Delivery to ${entry.destinationId}`}>
          <h3>
            {entry.destinationId}: {STATE_WORDS[entry.state]}{' '}
            <span className="history-mono muted">{entry.controlId}</span>
          </h3>
          {entry.error && entry.state !== 'delivered' && (
            <p className={entry.state === 'failed' ? 'text-bad' : 'muted'}>{entry.error}</p>
          )}
          {(entry.state === 'failed' || entry.state === 'delivered') && (
            <button type="button" onClick={() => void resend(entry.destinationId)}>
              Send again
            </button>
          )}
          {attempts.length === 0 ? (
            <p className="history-empty">No attempt yet.</p>
          ) : (
            <ol
              className="history-attempts"
              aria-label={`Attempts to deliver to ${entry.destinationId}`}
            >
              {attempts.map((attempt, index) => (
                <li key={index}>
                  <p>
                    <span className="history-mono">{formatFullTime(attempt.at)}</span> ·{' '}
                    <strong>{OUTCOME_WORDS[attempt.outcome]}</strong>
                  </p>
                  <details>
                    <summary>What was sent ({attempt.sent.length} characters)</summary>
                    <pre className="history-mono">{attempt.sent.replace(/\r/g, '\n')}</pre>
                  </details>
                  <p className="muted">The answer:</p>
                  <pre className="history-mono">
                    {(attempt.answer ?? 'none').replace(/\r/g, '\n')}
                  </pre>
                </li>
              ))}
            </ol>
          )}
        </section>
      ))}
    </div>
  );
}
