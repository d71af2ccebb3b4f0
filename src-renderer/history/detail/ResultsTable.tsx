import { useId, useState } from 'react';
import type { MessageDetail, ResultView } from '../../../src-shared/contract';
import type { ResultField } from '../../../src-shared/result-fields';
import { QcBadge } from '../QcBadge';

/** Flags that mean "nothing unusual", so they are not highlighted; every other flag is. */
const NORMAL_FLAGS = new Set(['', 'N', 'n']);

/**
 * The results as stored (what the analyzer sent, read with the instrument's profile), what the
 * LIS receives for each after the instrument's test-code mapping, and, on request, the field
 * each value was read from.
 */
export function ResultsTable({ detail }: { detail: MessageDetail }) {
  const [showSources, setShowSources] = useState(true);
  const checkboxId = useId();
  // When every result is QC the header says so; a mark on each row would only repeat it.
  const markQc = detail.results.some((r) => !r.qc);
  if (detail.results.length === 0) {
    return <p className="history-empty">This message carries no results.</p>;
  }
  return (
    <div className="history-results-view">
      <p className="history-results-controls">
        <input
          id={checkboxId}
          type="checkbox"
          checked={showSources}
          onChange={(event) => setShowSources(event.target.checked)}
        />{' '}
        <label htmlFor={checkboxId}>Show the field each value was read from</label>
      </p>
      <table className="history-results">
        <caption className="history-visually-hidden">Results of message {detail.id}</caption>
        <thead>
          <tr>
            <th scope="col">Test</th>
            <th scope="col">LIS test</th>
            <th scope="col">Value</th>
            <th scope="col">Units</th>
            <th scope="col">Range</th>
            <th scope="col">Flags</th>
            <th scope="col">Status</th>
            <th scope="col" title="As the analyzer's clock stated it">
              Observed at
            </th>
            <th scope="col">Sample ID</th>
            <th scope="col">Patient ID</th>
          </tr>
        </thead>
        <tbody>
          {detail.results.map((result, index) => (
            <ResultRow key={index} result={result} showSources={showSources} markQc={markQc} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ResultRow({
  result,
  showSources,
  markQc,
}: {
  result: ResultView;
  showSources: boolean;
  markQc: boolean;
}) {
  const flagged = !NORMAL_FLAGS.has((result.flags ?? '').trim());
  const source = (field: ResultField) => {
    if (!showSources) return null;
    const positions = result.sources.filter((s) => s.field === field).map((s) => s.position);
    if (positions.length === 0) return null;
    return (
      <span className="history-source" title="The field this value was read from">
        {positions.join(' + ')}
      </span>
    );
  };
  const { lis } = result;
  const renamedUnits = lis.units !== result.units;
  return (
    <tr
      className={
        [result.qc ? 'history-result-qc' : '', flagged ? 'history-result-abnormal' : '']
          .filter(Boolean)
          .join(' ') || undefined
      }
    >
      <td className="history-mono">
        {result.testCode ?? ''}
        {result.qc && markQc && <QcBadge />}
        {source('testCode')}
      </td>
      <td className="history-mono">
        {lis.excluded ? (
          <span className="history-not-forwarded">not forwarded</span>
        ) : (
          <>
            {lis.testCode ?? ''}
            {lis.name && <span className="history-lis-name"> {lis.name}</span>}
            {!lis.mapped && <span className="history-lis-same"> (as sent)</span>}
          </>
        )}
      </td>
      <td className={`history-mono history-value${flagged ? ' history-flagged' : ''}`}>
        {result.value ?? ''}
        {source('value')}
      </td>
      <td>
        {result.units ?? ''}
        {renamedUnits && !lis.excluded && (
          <span className="history-lis-units" title="The units the LIS receives">
            {' '}
            → {lis.units ?? ''}
          </span>
        )}
        {source('units')}
      </td>
      <td className="history-mono">{result.referenceRange ?? ''}</td>
      <td className={flagged ? 'history-flagged' : undefined}>
        {flagged && (
          <span className="history-flag-mark" aria-hidden="true">
            ⚠{' '}
          </span>
        )}
        {result.flags ?? ''}
        {flagged && <span className="history-visually-hidden"> (abnormal)</span>}
        {source('flags')}
      </td>
      <td>
        {result.status ?? ''}
        {source('status')}
      </td>
      <td>
        {result.observedAt?.replace('T', ' ') ?? ''}
        {source('observedAt')}
      </td>
      <td className="history-mono">
        {result.sampleId ?? ''}
        {source('sampleId')}
      </td>
      <td className="history-mono">
        {result.patientId ?? ''}
        {source('patientId')}
      </td>
    </tr>
  );
}
