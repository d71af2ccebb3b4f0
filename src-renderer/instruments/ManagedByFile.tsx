import { describeLine, type InstrumentConfig } from '../../src-shared/config';
import { protocolName } from '../format';
import { useAppStore } from '../store';

interface Props {
  config: InstrumentConfig;
}

/**
 * An instrument set up in the gateway's configuration file: shown, not edited here. Changes
 * made in the UI would be overwritten by the file at the next start, so the page says where
 * to make them instead.
 */
export function ManagedByFile({ config }: Props) {
  const configFile = useAppStore((state) => state.ui.appInfo?.configFile ?? null);
  const openEditor = useAppStore((state) => state.openEditor);
  const where = configFile ? (
    <>
      the configuration file <code>{configFile}</code>
    </>
  ) : (
    'the gateway’s configuration file'
  );
  const address = config.serial
    ? `uses the serial port ${config.serial.path} (${describeLine(config.serial)})`
    : config.mode === 'server'
      ? `listens on ${config.host}:${config.port}`
      : `connects to ${config.host}:${config.port}`;

  return (
    <section className="editor-form" aria-labelledby="managed-title">
      <h2 id="managed-title">{config.name ?? config.id}</h2>
      <div className="banner banner-info" role="note">
        <p>
          These settings come from {where}. Change them there and restart the gateway; they cannot
          be edited here. Reconnect and Disconnect on the dashboard still work.
        </p>
      </div>
      <dl className="managed-settings">
        <dt>ID</dt>
        <dd>{config.id}</dd>
        <dt>Protocol</dt>
        <dd>{protocolName(config.protocol)}</dd>
        <dt>Connection</dt>
        <dd>{address}</dd>
        <dt>Enabled</dt>
        <dd>{config.enabled ? 'Yes' : 'No'}</dd>
      </dl>
      <details>
        <summary>All settings as the file gives them</summary>
        <pre className="managed-json">{JSON.stringify(config, null, 2)}</pre>
      </details>
      <div className="form-actions">
        <button type="button" onClick={() => openEditor(null)}>
          Close
        </button>
      </div>
    </section>
  );
}
