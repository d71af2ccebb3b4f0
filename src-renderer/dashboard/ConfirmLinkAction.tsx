import { useEffect, useId, useRef } from 'react';

interface Props {
  action: 'reconnect' | 'disconnect';
  name: string;
  /** Where the analyzer is connected from or to, e.g. "10.0.0.7:4001". */
  peers: readonly string[];
  onConfirm(): void;
  onCancel(): void;
}

/**
 * Asks before cutting off an analyzer that is connected and working: a message it is sending
 * would stop half-way and it would have to send it again. Cancel has the focus.
 */
export function ConfirmLinkAction({ action, name, peers, onConfirm, onCancel }: Props) {
  const titleId = useId();
  const textId = useId();
  const cancelRef = useRef<HTMLButtonElement>(null);
  useEffect(() => cancelRef.current?.focus(), []);
  const where = peers.length > 0 ? ` (${peers.join(', ')})` : '';

  return (
    <div
      className="confirm confirm-inline"
      role="alertdialog"
      aria-labelledby={titleId}
      aria-describedby={textId}
      onKeyDown={(event) => {
        if (event.key === 'Escape') onCancel();
      }}
    >
      <h3 id={titleId}>
        {action === 'reconnect' ? 'Reconnect' : 'Disconnect'} {name}?
      </h3>
      <p id={textId}>
        The analyzer is connected and working{where}. This closes the connection at once: a message
        it is sending now stops half-way and must be sent again.
        {action === 'disconnect'
          ? ' The link then stays down until you press Reconnect.'
          : ' The link is then opened again.'}
      </p>
      <div className="form-actions">
        <button type="button" className="button-danger" onClick={onConfirm}>
          {action === 'reconnect' ? 'Reconnect now' : 'Disconnect now'}
        </button>
        <button type="button" ref={cancelRef} onClick={onCancel}>
          Keep connected
        </button>
      </div>
    </div>
  );
}
