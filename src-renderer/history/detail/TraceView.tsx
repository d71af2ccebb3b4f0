/**
 * The exchange around a message, one row per chunk as it crossed the wire, timed from the first:
 * ENQ/ACK/frames/EOT for ASTM, MLLP blocks and their acknowledgements for HL7.
 */
import { useMemo } from 'react';
import type { MessageDetail } from '../../../src-shared/contract';
import { base64ToBytes } from '../control-symbols';
import { describeChunk, isRefusal, traceDirectionWords } from '../words';
import { SymbolText } from './SymbolText';

export function TraceView({ detail }: { detail: MessageDetail }) {
  const chunks = useMemo(
    () => detail.trace.map((entry) => ({ ...entry, data: base64ToBytes(entry.bytes) })),
    [detail.trace],
  );
  const connections = new Set(chunks.map((chunk) => chunk.connectionId));
  const start = chunks[0]?.at ?? 0;
  return (
    <div className="history-trace">
      {detail.errors.length > 0 && (
        <ul className="history-problems" aria-label="Problems found">
          {detail.errors.map((error, index) => (
            <li key={index} className="history-problem">
              {error.message} <span className="history-code">({error.code})</span>
            </li>
          ))}
        </ul>
      )}
      {chunks.length === 0 ? (
        <p className="history-empty">No exchange was recorded for this message.</p>
      ) : (
        <table className="history-trace-table">
          <caption className="history-visually-hidden">Exchange on the wire</caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Direction</th>
              <th scope="col">Bytes</th>
              <th scope="col">Meaning</th>
              {connections.size > 1 && <th scope="col">Connection</th>}
            </tr>
          </thead>
          <tbody>
            {chunks.map((chunk, index) => {
              const refused = isRefusal(chunk.data);
              const meaning = describeChunk(chunk.data);
              return (
                <tr
                  key={index}
                  className={`history-trace-${chunk.direction}${refused ? ' history-refused' : ''}`}
                >
                  <td className="history-number history-mono">+{chunk.at - start} ms</td>
                  <td>{traceDirectionWords(chunk.direction)}</td>
                  <td className="history-mono history-trace-bytes">
                    <SymbolText bytes={chunk.data} options={{ breakAfterCr: false }} />
                  </td>
                  <td>
                    {refused ? (
                      <strong className="history-problem">
                        {chunk.data.length === 1 ? meaning : `${meaning}: not accepted`}
                      </strong>
                    ) : (
                      meaning
                    )}
                  </td>
                  {connections.size > 1 && <td className="history-mono">{chunk.connectionId}</td>}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}
