import { useMemo } from 'react';
import { base64ToBytes } from '../control-symbols';
import { hexDump } from '../hex-dump';
import { plural } from '../words';

/** Past this the dump stops; the Raw tab and the export still have every byte. */
const HEX_LIMIT_BYTES = 64 * 1024;

export function HexView({ raw }: { raw: string }) {
  const dump = useMemo(() => hexDump(base64ToBytes(raw), HEX_LIMIT_BYTES), [raw]);
  if (dump.lines.length === 0) {
    return <p className="history-empty">No wire bytes were stored.</p>;
  }
  return (
    <div className="history-hex">
      <pre className="history-pre" aria-label="Hex dump">
        {dump.lines.map((line) => (
          <span key={line.offset} className="history-hex-line">
            <span className="history-hex-offset">{line.offset}</span>
            {'  '}
            <span className="history-hex-bytes">{line.hex}</span>
            {'  '}
            <span className="history-hex-ascii">{line.ascii}</span>
            {'\n'}
          </span>
        ))}
      </pre>
      {dump.omitted > 0 && (
        <p className="history-note">{plural(dump.omitted, 'more byte')} not shown.</p>
      )}
    </div>
  );
}
