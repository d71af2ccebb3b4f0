import { useMemo } from 'react';
import type { MessageDetail } from '../../../src-shared/contract';
import { controlName } from '../control-names';
import { base64ToBytes, toWireLines } from '../control-symbols';
import { plural } from '../words';

const CHARSET_WORDS = { utf8: 'UTF-8', latin1: 'Latin-1' } as const;

export function RawView({ detail }: { detail: MessageDetail }) {
  const bytes = useMemo(() => base64ToBytes(detail.raw), [detail.raw]);
  const charset = detail.rawCharset ?? 'latin1';
  const lines = useMemo(
    () => toWireLines(bytes, { protocol: detail.protocol, charset }),
    [bytes, detail.protocol, charset],
  );
  if (bytes.length === 0) return <p className="history-empty">No wire bytes were stored.</p>;
  const unit = detail.protocol === 'astm' ? 'one frame per line' : 'one segment per line';
  return (
    <div className="history-raw">
      <p className="history-note">
        {detail.rawFrom === 'stored'
          ? `${plural(bytes.length, 'byte')} as stored: the trace of this exchange is no longer kept, so ${detail.protocol === 'astm' ? 'ENQ, EOT and the line end after each frame are' : 'nothing else of the exchange is'} shown. `
          : `${plural(bytes.length, 'byte')} exactly as received, framing included. `}
        Read as {CHARSET_WORDS[charset]}, the character set the message was read with; {unit};
        control characters as symbols (␅ enquiry, ␂ start of frame, ␃ end, ␗ end of block, ␍␊ line
        end, ␄ end of transmission, ␋ … ␜ MLLP block).
      </p>
      <pre className="history-pre history-raw-lines">
        {lines.map((line, index) => (
          <span key={index} className="history-raw-line">
            {line.map((token, at) =>
              token.control ? (
                <span key={at} className="history-control" title={controlName(token.text)}>
                  {token.text}
                </span>
              ) : (
                token.text
              ),
            )}
            {'\n'}
          </span>
        ))}
      </pre>
    </div>
  );
}
