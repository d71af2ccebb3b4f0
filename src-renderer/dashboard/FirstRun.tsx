import { useState } from 'react';
import { getApi } from '../api';
import { useAppStore } from '../store';
import { call } from '../store/call';

type DemoState = { step: 'idle' } | { step: 'starting' } | { step: 'failed'; message: string };

/** What an empty gateway shows: what it is for, and the two ways to get going. */
export function FirstRun() {
  const openEditor = useAppStore((state) => state.openEditor);
  const loadInstruments = useAppStore((state) => state.loadInstruments);
  const demoAvailable = useAppStore((state) => state.ui.appInfo?.demoAvailable ?? true);
  const [demo, setDemo] = useState<DemoState>({ step: 'idle' });

  const startDemo = async () => {
    setDemo({ step: 'starting' });
    const result = await call(() => getApi().startDemo({}));
    if (!result.ok) {
      setDemo({ step: 'failed', message: result.error.message });
      return;
    }
    // Their statuses also arrive as events; asking once more covers a slow event stream.
    await loadInstruments();
    setDemo({ step: 'idle' });
  };

  return (
    <section className="first-run" aria-labelledby="first-run-title">
      <h2 id="first-run-title">No instruments yet</h2>
      <p className="lead">
        Lab Gateway sits between your analyzers and the laboratory information system. It talks to
        each analyzer over TCP in ASTM or HL7, saves every message before acknowledging it, and lets
        you follow the links live and search every message later.
      </p>
      <div className="first-run-options">
        <div className="option">
          <h3>Connect an analyzer</h3>
          <p>
            Add an instrument with its protocol and address: a <em>server</em> link waits for the
            analyzer to connect to this computer; a <em>client</em> link connects to the analyzer.
          </p>
          <button type="button" onClick={() => openEditor({ kind: 'new' })}>
            Add an instrument
          </button>
        </div>
        {demoAvailable && (
          <div className="option">
            <h3>Try it first</h3>
            <p>
              Start two simulated analyzers on this computer, one ASTM and one HL7, and watch
              results arrive within seconds. You can remove them later.
            </p>
            <button
              type="button"
              className="button-primary"
              disabled={demo.step === 'starting'}
              onClick={() => void startDemo()}
            >
              Start demo instruments
            </button>
          </div>
        )}
      </div>
      <p className="first-run-status" role="status">
        {demo.step === 'starting' && 'Starting the demo instruments…'}
      </p>
      {demo.step === 'failed' && (
        <p className="action-error" role="alert">
          The demo did not start: {demo.message}
        </p>
      )}
    </section>
  );
}
