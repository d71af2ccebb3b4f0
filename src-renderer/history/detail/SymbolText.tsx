import { controlName } from '../control-names';
import { toSymbolTokens, type SymbolOptions } from '../control-symbols';

/** Bytes as Latin-1 text with control characters as marked symbols. */
export function SymbolText({ bytes, options }: { bytes: Uint8Array; options?: SymbolOptions }) {
  return (
    <>
      {toSymbolTokens(bytes, options).map((token, index) =>
        token.control ? (
          <span key={index} className="history-control" title={controlName(token.text)}>
            {token.text}
          </span>
        ) : (
          token.text
        ),
      )}
    </>
  );
}
