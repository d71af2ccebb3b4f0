import type { MessageDetail } from '../../../src-shared/contract';

/** Flags that mean "nothing unusual", so they are not highlighted. */
const NORMAL_FLAGS = new Set(['', 'N']);

export function ResultsTable({ detail }: { detail: MessageDetail }) {
  if (detail.results.length === 0) {
    return <p className="history-empty">This message carries no results.</p>;
  }
  return (
    <table className="history-results">
      <caption className="history-visually-hidden">Results of message {detail.id}</caption>
      <thead>
        <tr>
          <th scope="col">Test</th>
          <th scope="col">Value</th>
          <th scope="col">Units</th>
          <th scope="col">Flags</th>
          <th scope="col">Status</th>
          <th scope="col">Observed at</th>
          <th scope="col">Sample ID</th>
          <th scope="col">Patient ID</th>
        </tr>
      </thead>
      <tbody>
        {detail.results.map((result, index) => {
          const flagged = !NORMAL_FLAGS.has((result.flags ?? '').trim());
          return (
            <tr key={index}>
              <td className="history-mono">{result.testCode ?? ''}</td>
              <td className={`history-mono history-value${flagged ? ' history-flagged' : ''}`}>
                {result.value ?? ''}
              </td>
              <td>{result.units ?? ''}</td>
              <td className={flagged ? 'history-flagged' : undefined}>{result.flags ?? ''}</td>
              <td>{result.status ?? ''}</td>
              <td>{result.observedAt?.replace('T', ' ') ?? ''}</td>
              <td className="history-mono">{result.sampleId ?? ''}</td>
              <td className="history-mono">{result.patientId ?? ''}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
