import { useMemo } from 'react';
import { base64ToBytes } from '../control-symbols';
import { plural } from '../words';
import { SymbolText } from './SymbolText';

export function RawView({ raw }: { raw: string }) {
  const bytes = useMemo(() => base64ToBytes(raw), [raw]);
  if (bytes.length === 0) return <p className="history-empty">No wire bytes were stored.</p>;
  return (
    <div className="history-raw">
      <p className="history-note">
        {plural(bytes.length, 'byte')} as received, Latin-1; control characters shown as symbols (␂
        start of frame, ␃ end, ␗ end of block, ␍ carriage return, ␋ … ␜ MLLP block).
      </p>
      <pre className="history-pre">
        <SymbolText bytes={bytes} />
      </pre>
    </div>
  );
}
