import { useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { getApi } from '../api';
import { StatusBadge } from '../components/StatusBadge';
import { protocolName, statusWord } from '../format';
import { useAppStore } from '../store';
import { call } from '../store/call';
import { sortedInstruments } from '../store/instruments-slice';
import { useNow } from '../use-now';
import { InstrumentForm } from './InstrumentForm';
import { ManagedByFile } from './ManagedByFile';
import type { InstrumentConfig } from '../../src-shared/config';
import { newFormValues, toFormValues } from './form-values';
import { newResultSettings, toResultSettings } from './result-settings';

export function InstrumentsPage() {
  const selection = useAppStore((state) => state.ui.editor);
  const openEditor = useAppStore((state) => state.openEditor);

  return (
    <section className="page" aria-labelledby="instruments-title">
      <div className="page-head">
        <h1 id="instruments-title">Instruments</h1>
        <p className="page-summary">Add, change or remove the analyzers the gateway talks to.</p>
        <button
          type="button"
          className="page-head-action"
          onClick={() => openEditor({ kind: 'new' })}
        >
          Add instrument
        </button>
      </div>
      <div className="editor-layout">
        <InstrumentList selectedId={selection?.kind === 'edit' ? selection.id : null} />
        <div className="editor-pane">
          {selection === null && (
            <p className="muted editor-empty">
              Choose an instrument to change its settings, or add a new one.
            </p>
          )}
          {selection?.kind === 'new' && (
            <InstrumentForm
              key="new"
              editingId={null}
              initial={newFormValues()}
              initialResults={newResultSettings()}
            />
          )}
          {selection?.kind === 'edit' && <EditInstrument key={selection.id} id={selection.id} />}
        </div>
      </div>
    </section>
  );
}

function InstrumentList({ selectedId }: { selectedId: string | null }) {
  const instruments = useAppStore(useShallow(sortedInstruments));
  const openEditor = useAppStore((state) => state.openEditor);
  const now = useNow();

  return (
    <nav className="instrument-list" aria-label="Instruments">
      {instruments.length === 0 ? (
        <p className="muted">No instruments yet.</p>
      ) : (
        <ul>
          {instruments.map((status) => {
            const { word, tone } = statusWord(status, now);
            return (
              <li key={status.id}>
                <button
                  type="button"
                  className="list-item"
                  aria-current={status.id === selectedId ? 'true' : undefined}
                  onClick={() => openEditor({ kind: 'edit', id: status.id })}
                >
                  <span className="list-item-name">{status.name}</span>
                  <span className="list-item-sub">
                    {protocolName(status.protocol)} ·{' '}
                    {status.serial ? status.serial.path : status.mode} · {status.id}
                    {status.managedBy === 'file' && ' · from the configuration file'}
                  </span>
                  <StatusBadge word={word} tone={tone} />
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </nav>
  );
}

type Loaded =
  | { step: 'loading' }
  | { step: 'failed'; message: string }
  | { step: 'ready'; config: InstrumentConfig; fromFile: boolean };

/** Fetches the instrument's full settings, then shows them in the form. */
function EditInstrument({ id }: { id: string }) {
  const [loaded, setLoaded] = useState<Loaded>({ step: 'loading' });
  const stillThere = useAppStore(
    (state) => !state.instruments.loaded || id in state.instruments.byId,
  );

  useEffect(() => {
    let current = true;
    void call(() => getApi().getInstrument({ id })).then((result) => {
      if (!current) return;
      setLoaded(
        result.ok
          ? {
              step: 'ready',
              config: result.value.config,
              fromFile: result.value.status.managedBy === 'file',
            }
          : { step: 'failed', message: result.error.message },
      );
    });
    return () => {
      current = false;
    };
  }, [id]);

  if (!stillThere) return <p className="muted editor-empty">This instrument has been removed.</p>;
  if (loaded.step === 'loading')
    return (
      <p className="muted" role="status">
        Loading the settings…
      </p>
    );
  if (loaded.step === 'failed') {
    return (
      <p className="action-error" role="alert">
        Could not load the settings of {id}: {loaded.message}
      </p>
    );
  }
  if (loaded.fromFile) return <ManagedByFile config={loaded.config} />;
  return (
    <InstrumentForm
      editingId={id}
      original={loaded.config}
      initial={toFormValues(loaded.config)}
      initialResults={toResultSettings(loaded.config)}
    />
  );
}
