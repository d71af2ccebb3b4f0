import { useEffect, useId, useRef, useState } from 'react';

interface Props {
  name: string;
  onConfirm(): Promise<void>;
  onCancel(): void;
}

/** Asks before removing an instrument; Cancel has the focus, so Enter does no harm. */
export function ConfirmRemove({ name, onConfirm, onCancel }: Props) {
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
      <p id={textId}>
        Its link closes now and it disappears from the dashboard. Messages already stored stay in
        the history.
      </p>
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
          Remove instrument
        </button>
        <button type="button" ref={cancelRef} onClick={onCancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}
