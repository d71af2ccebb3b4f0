/**
 * The instrument's test-code mapping as an editable table: the analyzer's code, the LIS code and
 * name, units to send instead, and codes never forwarded; imported from and exported to CSV.
 */
import { useId, useRef, useState, type ChangeEvent } from 'react';
import { saveText } from '../history/save-file';
import {
  newRow,
  testCodesFromCsv,
  testCodesToCsv,
  type ResultSettingsErrors,
  type TestCodeRow,
} from './result-settings';

interface Props {
  rows: TestCodeRow[];
  errors: ResultSettingsErrors['rows'];
  /** Names the exported file. */
  instrumentId: string;
  onChange(rows: TestCodeRow[]): void;
}

type Note = { kind: 'ok' | 'bad'; text: string } | null;

export function TestCodeTable({ rows, errors, instrumentId, onChange }: Props) {
  const ids = useId();
  const fileInput = useRef<HTMLInputElement>(null);
  const [note, setNote] = useState<Note>(null);

  const update = (key: number, change: Partial<TestCodeRow>) =>
    onChange(rows.map((row) => (row.key === key ? { ...row, ...change } : row)));
  const text =
    (row: TestCodeRow, field: 'instrumentCode' | 'lisCode' | 'name' | 'units') =>
    (event: ChangeEvent<HTMLInputElement>) =>
      update(row.key, { [field]: event.target.value });

  const importFile = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    event.target.value = '';
    if (!file) return;
    const read = testCodesFromCsv(await textOf(file));
    if (!read.ok) {
      setNote({ kind: 'bad', text: `${file.name} was not imported: ${read.problem}` });
      return;
    }
    onChange(read.rows);
    setNote({
      kind: 'ok',
      text: `${read.rows.length} test code${read.rows.length === 1 ? '' : 's'} imported from ${file.name}; save to keep them.`,
    });
  };

  const exportFile = () => {
    saveText(`${instrumentId || 'instrument'}-test-codes.csv`, 'text/csv', testCodesToCsv(rows));
    setNote({ kind: 'ok', text: 'The table was saved as CSV.' });
  };

  return (
    <div className="test-codes">
      {rows.length === 0 ? (
        <p className="muted">
          No test codes are mapped: results go to the LIS with the analyzer’s own codes.
        </p>
      ) : (
        <table className="test-code-table">
          <caption className="visually-hidden">Test-code mapping</caption>
          <thead>
            <tr>
              <th scope="col" id={`${ids}-code`}>
                Analyzer code
              </th>
              <th scope="col" id={`${ids}-lis`}>
                LIS code
              </th>
              <th scope="col" id={`${ids}-name`}>
                Name
              </th>
              <th scope="col" id={`${ids}-units`}>
                Units sent
              </th>
              <th scope="col">Not forwarded</th>
              <th scope="col">
                <span className="visually-hidden">Remove</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row, index) => {
              const problem = errors[row.key];
              const n = index + 1;
              const errorId = `${ids}-row-${row.key}-error`;
              const invalid = (what: 'instrumentCode' | 'lisCode') => ({
                'aria-invalid': Boolean(problem?.[what]),
                'aria-describedby': problem ? errorId : undefined,
              });
              return (
                <tr key={row.key} className={problem ? 'test-code-invalid' : undefined}>
                  <td>
                    <input
                      id={`${ids}-row-${row.key}-code`}
                      aria-label={`Analyzer code, row ${n}`}
                      value={row.instrumentCode}
                      spellCheck={false}
                      autoComplete="off"
                      onChange={text(row, 'instrumentCode')}
                      {...invalid('instrumentCode')}
                    />
                    {problem && (
                      <p id={errorId} className="field-error">
                        {[problem.instrumentCode, problem.lisCode, problem.other]
                          .filter(Boolean)
                          .join('; ')}
                      </p>
                    )}
                  </td>
                  <td>
                    <input
                      aria-label={`LIS code, row ${n}`}
                      placeholder={row.instrumentCode.trim() || 'as sent'}
                      value={row.lisCode}
                      spellCheck={false}
                      autoComplete="off"
                      disabled={row.exclude}
                      onChange={text(row, 'lisCode')}
                      {...invalid('lisCode')}
                    />
                  </td>
                  <td>
                    <input
                      aria-label={`Name, row ${n}`}
                      value={row.name}
                      autoComplete="off"
                      disabled={row.exclude}
                      onChange={text(row, 'name')}
                    />
                  </td>
                  <td>
                    <input
                      aria-label={`Units sent, row ${n}`}
                      placeholder="as sent"
                      value={row.units}
                      spellCheck={false}
                      autoComplete="off"
                      disabled={row.exclude}
                      onChange={text(row, 'units')}
                    />
                  </td>
                  <td className="test-code-exclude">
                    <input
                      type="checkbox"
                      aria-label={`Not forwarded, row ${n}`}
                      checked={row.exclude}
                      onChange={(event) => update(row.key, { exclude: event.target.checked })}
                    />
                  </td>
                  <td>
                    <button
                      type="button"
                      aria-label={`Remove row ${n}`}
                      onClick={() => onChange(rows.filter((other) => other.key !== row.key))}
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <div className="test-code-actions">
        <button
          type="button"
          onClick={() => {
            const row = newRow();
            onChange([...rows, row]);
            requestAnimationFrame(() =>
              document.getElementById(`${ids}-row-${row.key}-code`)?.focus(),
            );
          }}
        >
          Add a test code
        </button>
        <button type="button" onClick={() => fileInput.current?.click()}>
          Import CSV…
        </button>
        <input
          ref={fileInput}
          type="file"
          accept=".csv,text/csv"
          hidden
          aria-label="CSV file of test codes"
          onChange={(event) => void importFile(event)}
        />
        <button type="button" disabled={rows.length === 0} onClick={exportFile}>
          Export CSV
        </button>
        <span role="status" className={note?.kind === 'bad' ? 'action-error' : 'muted'}>
          {note?.text ?? ''}
        </span>
      </div>
      <p className="field-hint">
        CSV columns: Instrument code, LIS code, Name, Units, Exclude (yes to keep a code from being
        forwarded). Codes not in the table go to the LIS as the analyzer sent them.
      </p>
    </div>
  );
}

/** A chosen file's text (UTF-8), through FileReader, which every runtime of the UI has. */
function textOf(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error('the file could not be read'));
    reader.readAsText(file);
  });
}
