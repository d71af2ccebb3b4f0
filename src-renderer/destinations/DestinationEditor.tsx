import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import type { DestinationStatusView } from '../../src-shared/outbox';
import { getApi } from '../api';
import { ConfirmRemove } from '../instruments/ConfirmRemove';
import { useAppStore } from '../store';
import { call } from '../store/call';
import {
  newDestinationValues,
  placeProblems,
  readDestinationForm,
  toDestinationValues,
  type DestinationErrors,
  type DestinationField,
  type DestinationFormValues,
} from './destination-form';

const TYPE_LABELS = {
  hl7: 'HL7 over MLLP (the gateway connects to the LIS)',
  http: 'HTTP POST (JSON or FHIR)',
  file: 'Files in a folder',
} as const;

interface FieldProps {
  formId: string;
  name: DestinationField;
  label: string;
  hint?: ReactNode;
  error?: string | undefined;
  children: (control: {
    id: string;
    name: string;
    'aria-invalid': boolean;
    'aria-describedby': string | undefined;
  }) => ReactNode;
}

function Field({ formId, name, label, hint, error, children }: FieldProps) {
  const base = `${formId}-${name}`;
  const describedBy = [error ? `${base}-error` : null, hint ? `${base}-hint` : null]
    .filter(Boolean)
    .join(' ');
  return (
    <div className={error ? 'field field-invalid' : 'field'}>
      <label htmlFor={base}>{label}</label>
      {children({
        id: base,
        name,
        'aria-invalid': Boolean(error),
        'aria-describedby': describedBy || undefined,
      })}
      {error && (
        <p id={`${base}-error`} className="field-error">
          {error}
        </p>
      )}
      {hint && (
        <p id={`${base}-hint`} className="field-hint">
          {hint}
        </p>
      )}
    </div>
  );
}

/** The editor for the destination chosen on the dashboard (or a new one). */
export function DestinationEditorPanel() {
  const editor = useAppStore((state) => state.destinations.editor);
  const list = useAppStore((state) => state.destinations.list);
  if (editor === null) return null;
  if (editor.kind === 'new') return <DestinationForm key="new" status={null} />;
  const status = list.find((d) => d.id === editor.id);
  if (!status) return null;
  if (status.source !== 'app' || status.config === null) {
    return <DestinationFromFile key={status.id} status={status} />;
  }
  return <DestinationForm key={status.id} status={status} />;
}

/** A destination from the configuration file: shown, not edited here, like such instruments. */
function DestinationFromFile({ status }: { status: DestinationStatusView }) {
  const configFile = useAppStore((state) => state.ui.appInfo?.configFile ?? null);
  const close = useAppStore((state) => state.openDestinationEditor);
  const titleId = useId();
  const where = configFile ? (
    <>
      the configuration file <code>{configFile}</code>
    </>
  ) : (
    'the gateway’s configuration file'
  );
  return (
    <section className="editor-form destination-editor" aria-labelledby={titleId}>
      <h2 id={titleId}>{status.name}</h2>
      <div className="banner banner-info" role="note">
        {status.source === 'file' ? (
          <p>
            These settings come from {where}. Change them there and restart the gateway; they cannot
            be edited here. Hold, Release and Retry failed on the card still work.
          </p>
        ) : (
          <p>This destination has been removed; its waiting messages are kept, held.</p>
        )}
      </div>
      {status.config && (
        <pre className="managed-json">{JSON.stringify(status.config, null, 2)}</pre>
      )}
      <div className="form-actions">
        <button type="button" onClick={() => close(null)}>
          Close
        </button>
      </div>
    </section>
  );
}

function DestinationForm({ status }: { status: DestinationStatusView | null }) {
  const formId = useId();
  const original = status?.config ?? null;
  const [values, setValues] = useState<DestinationFormValues>(() =>
    original ? toDestinationValues(original) : newDestinationValues(),
  );
  const [submitted, setSubmitted] = useState(false);
  const [serverErrors, setServerErrors] = useState<DestinationErrors>({});
  const [general, setGeneral] = useState<string[]>([]);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [removeError, setRemoveError] = useState<string | null>(null);
  const close = useAppStore((state) => state.openDestinationEditor);
  const applyDestinations = useAppStore((state) => state.applyDestinations);
  const loadDestinations = useAppStore((state) => state.loadDestinations);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const editing = status !== null;

  useEffect(() => {
    headingRef.current?.scrollIntoView?.({ block: 'nearest' });
  }, []);

  const read = readDestinationForm(values, original);
  const clientErrors: DestinationErrors = submitted && !read.ok ? read.errors : {};
  const errorOf = (name: DestinationField) => clientErrors[name] ?? serverErrors[name];

  const update = <K extends keyof DestinationFormValues>(
    key: K,
    value: DestinationFormValues[K],
  ) => {
    setValues((current) => ({ ...current, [key]: value }));
    setSaved(null);
    const field = (key === 'httpFormat' || key === 'fileFormat' ? 'format' : key) as string;
    setServerErrors((current) => {
      if (!(field in current)) return current;
      const next = { ...current };
      delete next[field as DestinationField];
      return next;
    });
  };

  const focusFirst = (errors: DestinationErrors) => {
    const first = Object.keys(errors)[0];
    if (first) document.getElementById(`${formId}-${first}`)?.focus();
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    setGeneral([]);
    setSaved(null);
    const checked = readDestinationForm(values, original);
    if (!checked.ok) {
      setGeneral(checked.general);
      focusFirst(checked.errors);
      return;
    }
    setSaving(true);
    const config = checked.candidate;
    const result = await call(() =>
      editing ? getApi().updateDestination({ config }) : getApi().createDestination({ config }),
    );
    setSaving(false);
    if (!result.ok) {
      const placed = placeProblems(result.error.fields ?? []);
      setServerErrors(placed.errors);
      setGeneral(
        placed.general.length > 0 || Object.keys(placed.errors).length === 0
          ? [result.error.message, ...placed.general]
          : [],
      );
      focusFirst(placed.errors);
      return;
    }
    setServerErrors({});
    const current = useAppStore.getState().destinations.list;
    const others = current.filter((d) => d.id !== result.value.id);
    applyDestinations(
      editing
        ? current.map((d) => (d.id === result.value.id ? result.value : d))
        : [...others, result.value],
    );
    void loadDestinations();
    if (editing) setSaved('Saved. Only this destination was restarted.');
    else close({ kind: 'edit', id: result.value.id });
  };

  const remove = async () => {
    if (!status) return;
    setRemoveError(null);
    const result = await call(() => getApi().deleteDestination({ id: status.id }));
    if (!result.ok) {
      setConfirming(false);
      setRemoveError(`Could not remove it: ${result.error.message}`);
      return;
    }
    close(null);
    await loadDestinations();
  };

  const textInput = (
    name: DestinationField,
    key: keyof DestinationFormValues,
    label: string,
    hint?: ReactNode,
    extra: { inputMode?: 'decimal'; placeholder?: string; readOnly?: boolean } = {},
  ) => (
    <Field formId={formId} name={name} label={label} hint={hint} error={errorOf(name)}>
      {(control) => (
        <input
          {...control}
          {...extra}
          autoComplete="off"
          value={values[key] as string}
          onChange={(event) => update(key, event.target.value as never)}
        />
      )}
    </Field>
  );

  const title = editing ? `Edit ${status.name}` : 'Add a destination';
  return (
    <form
      className="editor-form destination-editor"
      aria-labelledby={`${formId}-title`}
      noValidate
      onSubmit={(event) => void submit(event)}
    >
      <h2 id={`${formId}-title`} ref={headingRef}>
        {title}
      </h2>
      {general.length > 0 && (
        <div className="banner banner-bad" role="alert">
          {general.map((line) => (
            <p key={line}>{line}</p>
          ))}
        </div>
      )}
      <fieldset>
        <legend>Destination</legend>
        <Field
          formId={formId}
          name="type"
          label="Type"
          hint={
            editing ? 'The type of a destination cannot change; add a new one instead.' : undefined
          }
          error={errorOf('type')}
        >
          {(control) => (
            <select
              {...control}
              value={values.type}
              disabled={editing}
              onChange={(event) =>
                update('type', event.target.value as DestinationFormValues['type'])
              }
            >
              {(['hl7', 'http', 'file'] as const).map((type) => (
                <option key={type} value={type}>
                  {TYPE_LABELS[type]}
                </option>
              ))}
            </select>
          )}
        </Field>
        {textInput(
          'id',
          'id',
          'ID',
          editing
            ? 'Instruments name it in forwardTo; it cannot change.'
            : 'Letters, digits, - and _; instruments name it in forwardTo.',
          { readOnly: editing },
        )}
        {textInput('name', 'name', 'Name', 'Shown on the dashboard; the ID when empty.')}
        <div className="field field-check">
          <input
            type="checkbox"
            id={`${formId}-enabled`}
            checked={values.enabled}
            onChange={(event) => update('enabled', event.target.checked)}
          />
          <label htmlFor={`${formId}-enabled`}>Enabled (send results to it)</label>
        </div>
      </fieldset>

      {values.type === 'hl7' && (
        <fieldset>
          <legend>HL7 over MLLP</legend>
          {textInput('host', 'host', 'LIS host', 'Name or address the gateway connects to.')}
          {textInput('port', 'port', 'Port', undefined, { inputMode: 'decimal' })}
          {textInput(
            'ackTimeoutMs',
            'ackTimeoutMs',
            'ACK timeout (ms)',
            'How long the LIS may take to acknowledge before the message is sent again.',
            { inputMode: 'decimal' },
          )}
          {textInput(
            'window',
            'window',
            'Messages in flight',
            '1: each message waits for the previous one’s ACK (1 to 64).',
            { inputMode: 'decimal' },
          )}
          <div className="field field-check">
            <input
              type="checkbox"
              id={`${formId}-passthrough`}
              checked={values.passthrough}
              onChange={(event) => update('passthrough', event.target.checked)}
            />
            <label htmlFor={`${formId}-passthrough`}>
              Passthrough: forward an HL7 analyzer’s own message instead of a rebuilt ORU^R01
            </label>
          </div>
        </fieldset>
      )}

      {values.type === 'http' && (
        <fieldset>
          <legend>HTTP</legend>
          {textInput('url', 'url', 'URL', 'http:// or https://; one POST per message.', {
            placeholder: 'https://lis.example/results',
          })}
          <Field formId={formId} name="format" label="Format" error={errorOf('format')}>
            {(control) => (
              <select
                {...control}
                value={values.httpFormat}
                onChange={(event) => update('httpFormat', event.target.value as 'json' | 'fhir')}
              >
                <option value="json">JSON</option>
                <option value="fhir">FHIR R4 transaction Bundle</option>
              </select>
            )}
          </Field>
          {textInput(
            'caFile',
            'caFile',
            'CA file',
            'A PEM file of the authorities to trust for https; empty: the system’s.',
          )}
          {textInput('timeoutMs', 'timeoutMs', 'Timeout (ms)', undefined, {
            inputMode: 'decimal',
          })}
          <HeaderRows
            formId={formId}
            rows={values.headersFromEnv}
            error={errorOf('headersFromEnv')}
            onChange={(rows) => update('headersFromEnv', rows)}
          />
        </fieldset>
      )}

      {values.type === 'file' && (
        <fieldset>
          <legend>Files</legend>
          {textInput(
            'directory',
            'directory',
            'Folder',
            'One file per message, written whole (never half a file).',
          )}
          <Field formId={formId} name="format" label="Format" error={errorOf('format')}>
            {(control) => (
              <select
                {...control}
                value={values.fileFormat}
                onChange={(event) =>
                  update('fileFormat', event.target.value as 'hl7' | 'json' | 'csv')
                }
              >
                <option value="hl7">HL7 (ORU^R01)</option>
                <option value="json">JSON</option>
                <option value="csv">CSV</option>
              </select>
            )}
          </Field>
        </fieldset>
      )}

      <div className="form-actions">
        <button type="submit" className="button-primary" disabled={saving}>
          {editing ? 'Save changes' : 'Add destination'}
        </button>
        <button type="button" onClick={() => close(null)}>
          {editing ? 'Close' : 'Cancel'}
        </button>
        {editing && (
          <button type="button" className="button-danger" onClick={() => setConfirming(true)}>
            Remove
          </button>
        )}
      </div>
      {saved && (
        <p className="muted" role="status">
          {saved}
        </p>
      )}
      {removeError && (
        <p className="action-error" role="alert">
          {removeError}
        </p>
      )}
      {confirming && status && (
        <ConfirmRemove
          name={status.name}
          consequence="Nothing more is sent to it. Messages still waiting for it are kept, held, and shown on the dashboard until a destination with the same ID is added again."
          action="Remove destination"
          onCancel={() => setConfirming(false)}
          onConfirm={remove}
        />
      )}
    </form>
  );
}

function HeaderRows({
  formId,
  rows,
  error,
  onChange,
}: {
  formId: string;
  rows: { header: string; env: string }[];
  error: string | undefined;
  onChange(rows: { header: string; env: string }[]): void;
}) {
  const change = (index: number, key: 'header' | 'env', value: string) =>
    onChange(rows.map((row, i) => (i === index ? { ...row, [key]: value } : row)));
  return (
    <div className={error ? 'field field-invalid' : 'field'}>
      <p className="field-label" id={`${formId}-headersFromEnv`} tabIndex={-1}>
        Extra headers
      </p>
      <p className="field-hint">
        Each header’s value is read from an environment variable when the gateway starts (e.g.
        Authorization → LIS_AUTH). Name the variable here, never the value itself.
      </p>
      {rows.map((row, index) => (
        <div className="header-row" key={index}>
          <label>
            Header {index + 1}
            <input
              value={row.header}
              autoComplete="off"
              placeholder="Authorization"
              onChange={(event) => change(index, 'header', event.target.value)}
            />
          </label>
          <label>
            Environment variable {index + 1}
            <input
              value={row.env}
              autoComplete="off"
              placeholder="LIS_AUTH"
              onChange={(event) => change(index, 'env', event.target.value)}
            />
          </label>
          <button type="button" onClick={() => onChange(rows.filter((_, i) => i !== index))}>
            Remove header {index + 1}
          </button>
        </div>
      ))}
      {error && <p className="field-error">{error}</p>}
      <button type="button" onClick={() => onChange([...rows, { header: '', env: '' }])}>
        Add a header
      </button>
    </div>
  );
}
