import type { Tone } from '../format';

/** A status word on its colour; a shape in front keeps it readable without colour. */
export function StatusBadge({ word, tone }: { word: string; tone: Tone }) {
  return (
    <span className={`badge badge-${tone}`}>
      <span className="badge-mark" aria-hidden="true" />
      {word}
    </span>
  );
}
