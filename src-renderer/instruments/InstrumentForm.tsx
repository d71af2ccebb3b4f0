import { useId, useState, type FormEvent } from 'react';
import { instrumentConfigSchema, type InstrumentConfig } from '../../src-shared/config';
import { describeKeys, planChange, type ChangePlan } from '../../src-shared/config-effects';
import type { InstrumentStatus } from '../../src-shared/status';
import { getApi } from '../api';
import { formatAddress } from '../format';
import { useAppStore } from '../store';
import { call } from '../store/call';
import { ConfirmRemove } from './ConfirmRemove';
import type { DurationUnit } from './duration';
import { CheckboxField, Field, fieldIds } from './fields';
import {
  placeServerProblems,
  readForm,
  type FieldErrors,
  type FieldName,
  type FormValues,
} from './form-values';
import { ResultSettingsSection } from './ResultSettingsSection';
import { SerialSettingsFields } from './SerialSettingsFields';
import {
  readResultSettings,
  type ResultSettings,
  type ResultSettingsValues,
} from './result-settings';

const advancedFields: readonly FieldName[] = [
  'encoding',
  'maxConnections',
  'allowedPeers',
  'connectTimeoutMs',
  'reconnect.initialDelayMs',
  'reconnect.maxDelayMs',
  'reconnect.factor',
  'reconnect.jitter',
  'keepAliveMs',
  'idleTimeoutMs',
  'maxMessageBytes',
  'maxBufferedBytes',
  'silence.after',
  'silence.fromHour',
  'silence.toHour',
  'astm.framing',
  'astm.frameSize',
  'astm.maxFrameText',
  'astm.idleGapMs',
];

/** Fields that only mean something for one mode, protocol or option, and are hidden otherwise. */
function isShown(field: FieldName, values: FormValues): boolean {
  const tcp = values.transport === 'tcp';
  switch (field) {
    case 'mode':
    case 'port':
    case 'keepAliveMs':
      return tcp;
    case 'host':
      return tcp;
    case 'serial.path':
    case 'serial.baudRate':
    case 'serial.dataBits':
    case 'serial.parity':
    case 'serial.stopBits':
    case 'serial.flowControl':
      return !tcp;
    case 'maxConnections':
    case 'allowedPeers':
      return tcp && values.mode === 'server';
    case 'connectTimeoutMs':
      return tcp && values.mode === 'client';
    case 'silence.after':
    case 'silence.fromHour':
    case 'silence.toHour':
      return values.silenceAlarm;
    case 'astm.framing':
      return values.protocol === 'astm';
    case 'astm.frameSize':
    case 'astm.maxFrameText':
      return values.protocol === 'astm' && values['astm.framing'] === 'e1381';
    case 'astm.idleGapMs':
      return values.protocol === 'astm' && values['astm.framing'] === 'raw';
    case 'hl7.mllpCommitAck':
      return values.protocol === 'hl7';
    default:
      return true;
  }
}

/** The order problems are looked at in, to focus the first one. */
const fieldOrder: readonly FieldName[] = [
  'id',
  'name',
  'protocol',
  'mode',
  'transport',
  'host',
  'port',
  'serial.path',
  'serial.baudRate',
  'serial.dataBits',
  'serial.parity',
  'serial.stopBits',
  'serial.flowControl',
  ...advancedFields,
];

type TestState =
  { step: 'idle' } | { step: 'testing' } | { step: 'done'; ok: boolean; message: string };

interface Props {
  /** Null for a new instrument. */
  editingId: string | null;
  initial: FormValues;
  /** Profile, test codes and QC rules, edited in their own section. */
  initialResults: ResultSettingsValues;
  /** The settings as the gateway has them now; null for a new instrument. */
  original?: InstrumentConfig | null;
}

export function InstrumentForm({ editingId, initial, initialResults, original = null }: Props) {
  const formId = useId().replace(/:/g, '');
  const titleId = `${formId}-title`;
  const [values, setValues] = useState(initial);
  const [submitted, setSubmitted] = useState(false);
  const [serverErrors, setServerErrors] = useState<FieldErrors>({});
  const [general, setGeneral] = useState<string[]>([]);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const [advancedOpen, setAdvancedOpen] = useState(false);
  const [test, setTest] = useState<TestState>({ step: 'idle' });
  const [confirming, setConfirming] = useState(false);
  const [results, setResults] = useState(initialResults);
  const [removeError, setRemoveError] = useState<string | null>(null);
  /** What the gateway has now: the loaded settings, then each saved version. */
  const [baseline, setBaseline] = useState(original);
  const status = useAppStore((state) =>
    editingId === null ? undefined : state.instruments.byId[editingId],
  );
  const applyStatuses = useAppStore((state) => state.applyStatuses);
  const removeInstrument = useAppStore((state) => state.removeInstrument);
  const openEditor = useAppStore((state) => state.openEditor);

  const clientErrors: FieldErrors = submitted ? readErrors(values) : {};
  const readResults = readResultSettings(results, values.protocol);
  const resultErrors = submitted && !readResults.ok ? readResults.errors : { rows: {} };
  const errorOf = (field: FieldName) => clientErrors[field] ?? serverErrors[field];
  const plan = changePlan(baseline, values, readResults);
  const hiddenProblems = fieldOrder
    .filter((field) => !isShown(field, values) && errorOf(field))
    .map((field) => `${field}: ${errorOf(field)}`);

  const change = <K extends FieldName>(field: K, value: FormValues[K]) => {
    setValues((current) => ({ ...current, [field]: value }));
    setSaved(null);
    if (serverErrors[field]) {
      setServerErrors((current) => {
        const rest = { ...current };
        delete rest[field];
        return rest;
      });
    }
  };

  const text = (field: FieldName) => ({
    type: 'text',
    value: String(values[field]),
    onChange: (event: { target: { value: string } }) =>
      change(field, event.target.value as FormValues[typeof field]),
  });

  const focusFirstProblem = (errors: FieldErrors) => {
    const first = fieldOrder.find((field) => errors[field] && isShown(field, values));
    if (!first) return;
    if (advancedFields.includes(first)) setAdvancedOpen(true);
    // The Advanced section may have just opened; focus once it is rendered.
    requestAnimationFrame(() => {
      document.getElementById(fieldIds(formId, first).control)?.focus();
    });
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    setGeneral([]);
    setSaved(null);
    const read = readForm(values, baseline);
    if (!read.ok) {
      // A problem with a setting the form does not show (orders pushed over bare records…).
      setGeneral(read.general);
      focusFirstProblem(read.errors);
      return;
    }
    if (!readResults.ok) {
      requestAnimationFrame(() =>
        document.querySelector<HTMLElement>('.result-settings [aria-invalid="true"]')?.focus(),
      );
      return;
    }
    const config = candidateConfig(read.config, readResults.settings);
    const planned = baseline ? planChange(baseline, config) : null;
    setSaving(true);
    const api = getApi();
    const result = await call(() =>
      editingId === null ? api.createInstrument({ config }) : api.updateInstrument({ config }),
    );
    setSaving(false);
    if (!result.ok) {
      const placed = placeServerProblems(result.error.fields ?? []);
      setServerErrors(placed.errors);
      setGeneral(
        placed.general.length > 0 || Object.keys(placed.errors).length === 0
          ? [result.error.message, ...placed.general]
          : [],
      );
      focusFirstProblem(placed.errors);
      return;
    }
    const status: InstrumentStatus = result.value;
    applyStatuses([status]);
    setServerErrors({});
    if (editingId === null) openEditor({ kind: 'edit', id: status.id });
    else {
      setBaseline(config);
      setSaved(savedWords(planned));
    }
  };

  const testSerialPort = async () => {
    const read = readForm(values);
    const serial = read.ok ? read.config.serial : undefined;
    if (!serial) {
      setTest({
        step: 'done',
        ok: false,
        message: 'Choose or type the port, and check the line settings, first.',
      });
      return;
    }
    setTest({ step: 'testing' });
    const result = await call(() => getApi().testConnection({ serial }));
    if (!result.ok) {
      setTest({
        step: 'done',
        ok: false,
        message: `The test could not run: ${result.error.message}`,
      });
      return;
    }
    const { ok, message, elapsedMs } = result.value;
    setTest({ step: 'done', ok, message: `${message} (${Math.round(elapsedMs)} ms)` });
  };

  const testConnection = async () => {
    if (values.transport === 'serial') {
      await testSerialPort();
      return;
    }
    const port = Number(values.port);
    const host = values.host.trim();
    if (host === '' || !Number.isInteger(port) || port < 1 || port > 65535) {
      setTest({ step: 'done', ok: false, message: 'Enter the analyzer’s host and port first.' });
      return;
    }
    const timeout = Number(values.connectTimeoutMs);
    const timeoutMs = Number.isFinite(timeout)
      ? Math.round(Math.min(30_000, Math.max(100, timeout)))
      : undefined;
    setTest({ step: 'testing' });
    const result = await call(() =>
      getApi().testConnection({ host, port, ...(timeoutMs === undefined ? {} : { timeoutMs }) }),
    );
    if (!result.ok) {
      setTest({
        step: 'done',
        ok: false,
        message: `The test could not run: ${result.error.message}`,
      });
      return;
    }
    const { ok, message, elapsedMs } = result.value;
    setTest({ step: 'done', ok, message: `${message} (${Math.round(elapsedMs)} ms)` });
  };

  const remove = async () => {
    if (editingId === null) return;
    setRemoveError(null);
    const result = await call(() => getApi().deleteInstrument({ id: editingId }));
    if (!result.ok) {
      setConfirming(false);
      setRemoveError(`Could not remove it: ${result.error.message}`);
      return;
    }
    removeInstrument(editingId);
    openEditor(null);
  };

  // Numbers are typed as text: a number input would change under the scroll wheel and hide
  // what was typed from the schema's checks.
  const numberField = (name: FieldName, label: string, hint?: string) => (
    <Field formId={formId} name={name} label={label} hint={hint} error={errorOf(name)}>
      {(control) => <input {...control} {...text(name)} inputMode="decimal" autoComplete="off" />}
    </Field>
  );

  const displayName = values.name.trim() || values.id.trim() || 'this instrument';

  return (
    <form
      className="editor-form"
      noValidate
      aria-labelledby={titleId}
      onSubmit={(event) => void submit(event)}
    >
      <h2 id={titleId}>
        {editingId === null
          ? 'New instrument'
          : `Edit ${baseline?.name ?? initial.name ?? initial.id}`}
      </h2>

      {(general.length > 0 || hiddenProblems.length > 0) && (
        <div className="banner banner-bad" role="alert">
          <p>The instrument was not saved:</p>
          <ul>
            {[...general, ...hiddenProblems].map((problem) => (
              <li key={problem}>{problem}</li>
            ))}
          </ul>
        </div>
      )}

      <div className="form-grid">
        <Field
          formId={formId}
          name="id"
          label="ID"
          hint={
            editingId === null
              ? 'Letters, digits, dots, dashes or underscores. It cannot be changed later.'
              : 'The ID cannot be changed.'
          }
          error={errorOf('id')}
        >
          {(control) => (
            <input
              {...control}
              {...text('id')}
              readOnly={editingId !== null}
              autoComplete="off"
              spellCheck={false}
            />
          )}
        </Field>
        <Field
          formId={formId}
          name="name"
          label="Name"
          hint="Shown on the dashboard; the ID is used when empty."
          error={errorOf('name')}
        >
          {(control) => <input {...control} {...text('name')} autoComplete="off" />}
        </Field>
        <Field formId={formId} name="protocol" label="Protocol" error={errorOf('protocol')}>
          {(control) => (
            <select
              {...control}
              value={values.protocol}
              onChange={(event) => change('protocol', event.target.value as FormValues['protocol'])}
            >
              <option value="astm">ASTM (E1381 / E1394)</option>
              <option value="hl7">HL7 v2 over MLLP</option>
            </select>
          )}
        </Field>
        <Field
          formId={formId}
          name="transport"
          label="Connection type"
          hint={
            values.transport === 'serial'
              ? 'An RS-232 port of this computer (or a USB serial adapter).'
              : 'The analyzer is on the network.'
          }
          error={errorOf('transport')}
        >
          {(control) => (
            <select
              {...control}
              value={values.transport}
              onChange={(event) => {
                change('transport', event.target.value as FormValues['transport']);
                setTest({ step: 'idle' });
              }}
            >
              <option value="tcp">TCP/IP network</option>
              <option value="serial">Serial port (RS-232)</option>
            </select>
          )}
        </Field>
        {values.transport === 'tcp' && (
          <>
            <Field
              formId={formId}
              name="mode"
              label="Mode"
              hint={
                values.mode === 'server'
                  ? 'The analyzer connects to the gateway.'
                  : 'The gateway connects to the analyzer.'
              }
              error={errorOf('mode')}
            >
              {(control) => (
                <select
                  {...control}
                  value={values.mode}
                  onChange={(event) => change('mode', event.target.value as FormValues['mode'])}
                >
                  <option value="server">Server: analyzer connects here</option>
                  <option value="client">Client: connect to analyzer</option>
                </select>
              )}
            </Field>
            <Field
              formId={formId}
              name="host"
              label="Host"
              hint={
                values.mode === 'server'
                  ? 'Address to listen on: 0.0.0.0 for every network, 127.0.0.1 for this computer only.'
                  : 'The analyzer’s IP address or host name.'
              }
              error={errorOf('host')}
            >
              {(control) => (
                <input {...control} {...text('host')} autoComplete="off" spellCheck={false} />
              )}
            </Field>
            <Field
              formId={formId}
              name="port"
              label="Port"
              hint="1 to 65535"
              error={errorOf('port')}
            >
              {(control) => (
                <input {...control} {...text('port')} inputMode="numeric" autoComplete="off" />
              )}
            </Field>
          </>
        )}
      </div>
      {values.transport === 'serial' && (
        <fieldset className="serial-settings">
          <legend>Serial port</legend>
          <SerialSettingsFields formId={formId} values={values} errorOf={errorOf} change={change} />
        </fieldset>
      )}
      <CheckboxField
        formId={formId}
        name="enabled"
        label="Enabled"
        hint="A disabled instrument keeps its settings and history but has no link."
        checked={values.enabled}
        onChange={(checked) => change('enabled', checked)}
      />

      <ResultSettingsSection
        values={results}
        errors={resultErrors}
        protocol={values.protocol}
        editingId={editingId}
        instrumentId={values.id.trim()}
        onChange={(change) => {
          setResults((current) => ({ ...current, ...change }));
          setSaved(null);
        }}
      />

      <details
        className="advanced"
        open={advancedOpen}
        onToggle={(event) => setAdvancedOpen(event.currentTarget.open)}
      >
        <summary>Advanced</summary>
        <fieldset>
          <legend>Connection</legend>
          <div className="form-grid">
            <Field
              formId={formId}
              name="encoding"
              label="Text encoding"
              hint="HL7 messages naming their character set in MSH-18 override it."
              error={errorOf('encoding')}
            >
              {(control) => (
                <select
                  {...control}
                  value={values.encoding}
                  onChange={(event) =>
                    change('encoding', event.target.value as FormValues['encoding'])
                  }
                >
                  <option value="latin1">Latin-1 (ISO 8859-1)</option>
                  <option value="utf8">UTF-8</option>
                </select>
              )}
            </Field>
            {isShown('maxConnections', values) &&
              numberField(
                'maxConnections',
                'Most connections at once',
                'More analyzer connections than this are refused.',
              )}
            {isShown('connectTimeoutMs', values) &&
              numberField(
                'connectTimeoutMs',
                'Connect timeout (ms)',
                'Give up a connection attempt after this long.',
              )}
            {isShown('keepAliveMs', values) &&
              numberField('keepAliveMs', 'TCP keepalive (ms)', '0 turns keepalive off.')}
            {numberField(
              'idleTimeoutMs',
              'Idle timeout (ms)',
              'Close a connection silent this long; 0: never.',
            )}
            {isShown('allowedPeers', values) && (
              <Field
                formId={formId}
                name="allowedPeers"
                label="Allowed analyzer addresses"
                hint="One per line. Empty: any address may connect."
                error={errorOf('allowedPeers')}
              >
                {(control) => (
                  <textarea
                    {...control}
                    rows={3}
                    value={values.allowedPeers}
                    onChange={(event) => change('allowedPeers', event.target.value)}
                    spellCheck={false}
                  />
                )}
              </Field>
            )}
          </div>
        </fieldset>
        <fieldset>
          <legend>Reconnecting</legend>
          <p className="fieldset-hint">
            After a lost connection (client) or a failure to listen (server), wait, then try again
            with growing delays.
          </p>
          <div className="form-grid">
            {numberField('reconnect.initialDelayMs', 'First delay (ms)')}
            {numberField('reconnect.maxDelayMs', 'Longest delay (ms)')}
            {numberField(
              'reconnect.factor',
              'Growth factor',
              'Each delay is this many times the one before.',
            )}
            {numberField(
              'reconnect.jitter',
              'Jitter (0 to 1)',
              'Random spread, so many links do not retry together.',
            )}
          </div>
        </fieldset>
        <fieldset>
          <legend>Limits</legend>
          <div className="form-grid">
            {numberField('maxMessageBytes', 'Largest message (bytes)')}
            {numberField('maxBufferedBytes', 'Buffered bytes limit')}
          </div>
        </fieldset>
        <fieldset>
          <legend>Silence alarm</legend>
          <CheckboxField
            formId={formId}
            name="silenceAlarm"
            label="Warn when the analyzer goes quiet"
            checked={values.silenceAlarm}
            onChange={(checked) => change('silenceAlarm', checked)}
          />
          {values.silenceAlarm && (
            <div className="form-grid">
              <Field
                formId={formId}
                name="silence.after"
                label="Warn after"
                hint="Without a message from the analyzer for this long; at least 1 minute."
                error={errorOf('silence.after')}
              >
                {(control) => (
                  <div className="amount-with-unit">
                    <input
                      {...control}
                      {...text('silence.after')}
                      inputMode="decimal"
                      autoComplete="off"
                    />
                    <select
                      id={fieldIds(formId, 'silence.afterUnit').control}
                      aria-label="Unit of Warn after"
                      value={values['silence.afterUnit']}
                      onChange={(event) =>
                        change('silence.afterUnit', event.target.value as DurationUnit)
                      }
                    >
                      <option value="minutes">minutes</option>
                      <option value="hours">hours</option>
                    </select>
                  </div>
                )}
              </Field>
              {numberField(
                'silence.fromHour',
                'From hour (0–24)',
                'Only when traffic is expected.',
              )}
              {numberField('silence.toHour', 'Until hour (0–24)')}
            </div>
          )}
        </fieldset>
        {values.protocol === 'astm' ? (
          <fieldset>
            <legend>ASTM</legend>
            <div className="form-grid">
              <Field
                formId={formId}
                name="astm.framing"
                label="Framing"
                error={errorOf('astm.framing')}
              >
                {(control) => (
                  <select
                    {...control}
                    value={values['astm.framing']}
                    onChange={(event) =>
                      change('astm.framing', event.target.value as FormValues['astm.framing'])
                    }
                  >
                    <option value="e1381">E1381 (ENQ, frames, EOT)</option>
                    <option value="raw">Bare records, no framing</option>
                  </select>
                )}
              </Field>
              {values['astm.framing'] === 'raw' ? (
                numberField(
                  'astm.idleGapMs',
                  'End a message without L after (ms)',
                  'For analyzers that send no L record; 0 waits for L or the next H.',
                )
              ) : (
                <>
                  {numberField(
                    'astm.frameSize',
                    'Frame size we send (bytes)',
                    'Most analyzers expect 240.',
                  )}
                  {numberField('astm.maxFrameText', 'Largest frame accepted (bytes)')}
                </>
              )}
            </div>
          </fieldset>
        ) : (
          <fieldset>
            <legend>HL7</legend>
            <CheckboxField
              formId={formId}
              name="hl7.mllpCommitAck"
              label="Answer MLLP commit acknowledgements"
              hint="For senders using MLLP Release 2."
              checked={values['hl7.mllpCommitAck']}
              onChange={(checked) => change('hl7.mllpCommitAck', checked)}
            />
          </fieldset>
        )}
      </details>

      {(values.transport === 'serial' || values.mode === 'client') && (
        <div className="test-connection">
          <button
            type="button"
            disabled={test.step === 'testing'}
            onClick={() => void testConnection()}
          >
            Test connection
          </button>
          <p
            role="status"
            className={test.step === 'done' ? (test.ok ? 'test-ok' : 'test-bad') : 'muted'}
          >
            {test.step === 'testing' &&
              (values.transport === 'serial'
                ? `Opening ${values['serial.path'].trim()}…`
                : `Trying ${formatAddress(values.host.trim(), Number(values.port))}…`)}
            {test.step === 'done' && (
              <>
                <strong>
                  {values.transport === 'serial'
                    ? test.ok
                      ? 'Port opens:'
                      : 'Port does not open:'
                    : test.ok
                      ? 'Reachable:'
                      : 'Not reachable:'}
                </strong>{' '}
                {test.message}
              </>
            )}
          </p>
        </div>
      )}

      {plan && plan.reconnect.length > 0 && (
        <p className="banner banner-warn save-effect" role="note">
          {reconnectWarning(plan, status)}
        </p>
      )}
      {plan && plan.changed.length > 0 && plan.reconnect.length === 0 && (
        <p className="muted save-effect" role="note">
          These changes apply without reconnecting the analyzer.
        </p>
      )}

      <div className="form-actions">
        <button type="submit" className="button-primary" disabled={saving}>
          {editingId === null ? 'Create instrument' : 'Save changes'}
        </button>
        <button type="button" onClick={() => openEditor(null)}>
          Cancel
        </button>
        {editingId !== null && (
          <button type="button" className="button-danger" onClick={() => setConfirming(true)}>
            Remove
          </button>
        )}
        <p role="status" className="form-saved">
          {saving ? 'Saving…' : saved}
        </p>
      </div>
      {removeError && (
        <p className="action-error" role="alert">
          {removeError}
        </p>
      )}
      {confirming && editingId !== null && (
        <ConfirmRemove
          name={displayName}
          consequence="Its link closes now and it disappears from the dashboard. Messages already stored stay in the history."
          action="Remove instrument"
          onConfirm={remove}
          onCancel={() => setConfirming(false)}
        />
      )}
    </form>
  );
}

/**
 * The settings the form would save: its own fields (already laid over the gateway's config, see
 * readForm), then profile, test codes and QC, which the form shows whole.
 */
function candidateConfig(config: InstrumentConfig, settings: ResultSettings): InstrumentConfig {
  const merged: Record<string, unknown> = {
    ...config,
    testCodes: settings.testCodes,
    qc: settings.qc,
  };
  // No profile chosen means the generic reading, even if the gateway had one.
  if (settings.profile === undefined) delete merged.profile;
  else merged.profile = settings.profile;
  // Defaults filled in, so comparing with the gateway's settings sees only real changes.
  const parsed = instrumentConfigSchema.safeParse(merged);
  return parsed.success ? parsed.data : (merged as InstrumentConfig);
}

/** What saving the form as it is now would change; null while new or not valid. */
function changePlan(
  baseline: InstrumentConfig | null,
  values: FormValues,
  results: ReturnType<typeof readResultSettings>,
): ChangePlan | null {
  if (!baseline || !results.ok) return null;
  const read = readForm(values, baseline);
  if (!read.ok) return null;
  return planChange(baseline, candidateConfig(read.config, results.settings));
}

function reconnectWarning(plan: ChangePlan, status: InstrumentStatus | undefined): string {
  const what = describeKeys(plan.reconnect);
  if (plan.reconnect.length === 1 && plan.reconnect[0] === 'enabled') {
    return status?.enabled
      ? 'Saving disables the instrument: its link closes once a message in progress has finished.'
      : 'Saving enables the instrument and opens its link.';
  }
  const connected =
    status && status.peers.length > 0
      ? ` The analyzer connected from ${status.peers.join(', ')} has to connect again.`
      : '';
  return `Saving reconnects the link because the ${what} changed: a message in progress is finished first, then the connection is closed and opened again.${connected}`;
}

function savedWords(plan: ChangePlan | null): string {
  if (!plan || plan.changed.length === 0) return 'Saved; nothing had changed.';
  if (plan.reconnect.length === 0)
    return 'Changes saved and applied; the analyzer stayed connected.';
  if (plan.reconnect.length === 1 && plan.reconnect[0] === 'enabled') return 'Changes saved.';
  return `Changes saved; the link was restarted because the ${describeKeys(plan.reconnect)} changed.`;
}

function readErrors(values: FormValues): FieldErrors {
  const read = readForm(values);
  return read.ok ? {} : read.errors;
}
