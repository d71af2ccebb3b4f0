import { useEffect, useId, useRef, useState } from 'react';

interface Props {
  name: string;
  /** What removing does, in a sentence or two. */
  consequence: string;
  /** The button's words, e.g. "Remove instrument". */
  action: string;
  onConfirm(): Promise<void>;
  onCancel(): void;
}

/** Asks before removing something; Cancel has the focus, so Enter does no harm. */
export function ConfirmRemove({ name, consequence, action, onConfirm, onCancel }: Props) {
  const titleId = useId();
  const textId = useId();
  const cancelRef = useRef<HTMLButtonElement>(null);
  const [removing, setRemoving] = useState(false);

  useEffect(() => {
    cancelRef.current?.focus();
  }, []);

  return (
    <div
      className="confirm"
      role="alertdialog"
      aria-labelledby={titleId}
      aria-describedby={textId}
      onKeyDown={(event) => {
        if (event.key === 'Escape') onCancel();
      }}
    >
      <h3 id={titleId}>Remove {name}?</h3>
      <p id={textId}>{consequence}</p>
      <div className="form-actions">
        <button
          type="button"
          className="button-danger"
          disabled={removing}
          onClick={() => {
            setRemoving(true);
            void onConfirm().finally(() => setRemoving(false));
          }}
        >
          {action}
        </button>
        <button type="button" ref={cancelRef} onClick={onCancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}
