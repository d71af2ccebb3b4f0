/**
 * Chooses the instrument profile, says what it reads differently from the generic reading, and
 * previews it on the last message the instrument sent.
 */
import { useId, useState } from 'react';
import type { ProfilePreview } from '../../src-shared/contract';
import {
  BUILT_IN_PROFILES,
  GENERIC_RULES,
  describeRule,
  profileNamed,
} from '../../src-shared/profiles';
import { RESULT_FIELD_LABELS, RESULT_FIELDS } from '../../src-shared/result-fields';
import type { Protocol } from '../../src-shared/results';
import { getApi } from '../api';
import { call } from '../store/call';

interface Props {
  /** '' for the generic reading. */
  value: string;
  protocol: Protocol;
  /** Null for an instrument not saved yet (nothing to preview). */
  instrumentId: string | null;
  error?: string | undefined;
  onChange(profile: string): void;
}

type Preview =
  | { step: 'idle' }
  | { step: 'loading' }
  | { step: 'failed'; message: string }
  | { step: 'ready'; profile: string; preview: ProfilePreview };

export function ProfilePicker({ value, protocol, instrumentId, error, onChange }: Props) {
  const ids = useId();
  const [preview, setPreview] = useState<Preview>({ step: 'idle' });
  const profile = value === '' ? null : profileNamed(value);
  const choices = BUILT_IN_PROFILES.filter((p) => p.protocol === protocol || p.name === value);

  const runPreview = async () => {
    if (instrumentId === null) return;
    setPreview({ step: 'loading' });
    const result = await call(() =>
      getApi().previewProfile({ instrumentId, profile: value === '' ? null : value }),
    );
    setPreview(
      result.ok
        ? { step: 'ready', profile: value, preview: result.value }
        : { step: 'failed', message: result.error.message },
    );
  };

  return (
    <div className="profile-picker">
      <div className={error ? 'field field-invalid' : 'field'}>
        <label htmlFor={`${ids}-profile`}>Profile</label>
        <select
          id={`${ids}-profile`}
          value={value}
          aria-invalid={Boolean(error)}
          aria-describedby={`${ids}-profile-hint${error ? ` ${ids}-profile-error` : ''}`}
          onChange={(event) => {
            onChange(event.target.value);
            setPreview({ step: 'idle' });
          }}
        >
          <option value="">Generic reading (no profile)</option>
          {choices.map((p) => (
            <option key={p.name} value={p.name}>
              {p.title} ({p.name})
            </option>
          ))}
        </select>
        {error && (
          <p id={`${ids}-profile-error`} className="field-error">
            {error}
          </p>
        )}
        <p id={`${ids}-profile-hint`} className="field-hint">
          {profile
            ? profile.summary
            : 'Results are read where the ASTM and HL7 standards put them.'}
        </p>
      </div>
      {profile && (
        <table className="profile-rules">
          <caption>What the {profile.title} profile reads differently</caption>
          <thead>
            <tr>
              <th scope="col">Value</th>
              <th scope="col">Read from</th>
              <th scope="col">Generic reading</th>
            </tr>
          </thead>
          <tbody>
            {RESULT_FIELDS.filter((field) => profile.results[field] !== undefined).map((field) => (
              <tr key={field}>
                <th scope="row">{RESULT_FIELD_LABELS[field]}</th>
                <td className="mono">{describeRule(profile.results[field]!)}</td>
                <td className="mono">{describeRule(GENERIC_RULES[profile.protocol][field])}</td>
              </tr>
            ))}
            {profile.querySampleId && (
              <tr>
                <th scope="row">Sample ID of host queries</th>
                <td className="mono">{profile.querySampleId}</td>
                <td className="mono">Q-3.2, then Q-3.3</td>
              </tr>
            )}
          </tbody>
        </table>
      )}
      {profile && (
        <p className="field-hint">
          R-4.2 is component 2 of field 4 of the R record; “R-3.4+” the first component from the 4th
          on that holds a value; “O-3.*” the first of O-3 that does. A value the profile does not
          find is read the generic way, with a note in the message’s problems.
        </p>
      )}
      <div className="profile-preview">
        <button
          type="button"
          disabled={instrumentId === null || preview.step === 'loading'}
          onClick={() => void runPreview()}
        >
          Preview with the last message
        </button>
        {instrumentId === null && (
          <span className="field-hint">
            {' '}
            Save the instrument first; then its messages can be read here.
          </span>
        )}
        <div role="status" className="profile-preview-result">
          {preview.step === 'loading' && 'Reading the last message…'}
          {preview.step === 'failed' && (
            <p className="action-error">The preview could not run: {preview.message}</p>
          )}
          {preview.step === 'ready' && (
            <PreviewTable profile={preview.profile} preview={preview.preview} />
          )}
        </div>
      </div>
    </div>
  );
}

function PreviewTable({ profile, preview }: { profile: string; preview: ProfilePreview }) {
  const message = preview.message;
  if (message === null) return <p>Nothing has been received from this instrument yet.</p>;
  const how =
    profile === ''
      ? 'the generic reading'
      : `the ${profileNamed(profile)?.title ?? profile} profile`;
  const when = new Date(message.receivedAt).toLocaleString();
  return (
    <>
      <p>
        With {how}, the last message (number {message.id}, received {when}) reads as:
      </p>
      {message.notes.length > 0 && (
        <ul className="profile-notes">
          {message.notes.map((note, index) => (
            <li key={index}>
              {note.message} <span className="muted">({note.code})</span>
            </li>
          ))}
        </ul>
      )}
      {message.results.length === 0 ? (
        <p>It carries no results.</p>
      ) : (
        <table className="profile-preview-table">
          <caption className="visually-hidden">Results of the last message</caption>
          <thead>
            <tr>
              <th scope="col">Test</th>
              <th scope="col">Value</th>
              <th scope="col">Units</th>
              <th scope="col">Result time</th>
              <th scope="col">Sample ID</th>
            </tr>
          </thead>
          <tbody>
            {message.results.map((result, index) => {
              const from = (field: string) =>
                result.sources
                  .filter((s) => s.field === field)
                  .map((s) => s.position)
                  .join(' + ');
              const cell = (text: string | null, field: string) => (
                <td>
                  <span className="mono">{text ?? ''}</span>
                  {from(field) && <span className="profile-source">{from(field)}</span>}
                </td>
              );
              return (
                <tr key={index}>
                  {cell(result.testCode, 'testCode')}
                  {cell(result.value, 'value')}
                  {cell(result.units, 'units')}
                  {cell(result.observedAt?.replace('T', ' ') ?? null, 'observedAt')}
                  {cell(result.sampleId, 'sampleId')}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </>
  );
}
