/**
 * Records or segments as a tree of disclosure buttons: a segment opens to its fields, each with
 * its position (`R-4`, `OBX-5`), and a field with components opens to those (`OBX-5.1`). Fields
 * that gave a result its values say so (`→ Value of result 3`).
 */
import { useId, useMemo, useState } from 'react';
import type { ParsedSegment, ResultView } from '../../../src-shared/contract';
import { sourceLabels, splitPosition, type SourceLabel } from './sources';

/** Messages longer than this open collapsed, so the tab appears at once. */
const EXPANDED_UP_TO = 60;

export function ParsedTree({
  segments,
  results = [],
}: {
  segments: ParsedSegment[];
  /** The message's results, whose sources point into `segments`. */
  results?: readonly ResultView[];
}) {
  const [showEmpty, setShowEmpty] = useState(false);
  const reads = useMemo(() => sourceLabels(results), [results]);
  const [open, setOpen] = useState<ReadonlySet<number>>(() =>
    segments.length <= EXPANDED_UP_TO ? new Set(segments.keys()) : new Set(),
  );
  const ids = useId();

  if (segments.length === 0) {
    return <p className="history-empty">Nothing could be parsed from this message.</p>;
  }

  const toggle = (index: number) =>
    setOpen((current) => {
      const next = new Set(current);
      if (!next.delete(index)) next.add(index);
      return next;
    });

  return (
    <div className="history-parsed">
      <div className="history-parsed-controls">
        <label>
          <input
            type="checkbox"
            checked={showEmpty}
            onChange={(event) => setShowEmpty(event.target.checked)}
          />{' '}
          Show empty fields
        </label>
        <button type="button" onClick={() => setOpen(new Set(segments.keys()))}>
          Expand all
        </button>
        <button type="button" onClick={() => setOpen(new Set())}>
          Collapse all
        </button>
      </div>
      <ul className="history-tree">
        {segments.map((segment, index) => {
          const expanded = open.has(index);
          const fields = showEmpty
            ? segment.fields
            : segment.fields.filter((field) => field.value !== '');
          const fieldsId = `${ids}-segment-${index}`;
          const segmentReads = reads.get(index) ?? [];
          return (
            <li key={index}>
              <button
                type="button"
                className="history-tree-toggle"
                aria-expanded={expanded}
                aria-controls={expanded ? fieldsId : undefined}
                onClick={() => toggle(index)}
              >
                <span aria-hidden="true">{expanded ? '▾' : '▸'}</span>{' '}
                <span className="history-segment-name">{segment.name}</span>
                <span className="history-segment-text">{segment.text}</span>
              </button>
              {expanded && (
                <ul id={fieldsId} className="history-fields">
                  {fields.length === 0 && <li className="history-empty">No fields with values</li>}
                  {fields.map((field) => {
                    const placed = readsOfField(segmentReads, field);
                    return (
                      <li key={field.position}>
                        <span className="history-position">{field.position}</span>
                        <span className="history-mono">{field.value}</span>
                        <Reads labels={placed.field} />
                        {field.components && field.components.length > 1 && (
                          <ul className="history-components">
                            {field.components.map((component, part) =>
                              showEmpty || component !== '' ? (
                                <li key={part}>
                                  <span className="history-position">
                                    {field.position}.{part + 1}
                                  </span>
                                  <span className="history-mono">{component}</span>
                                  <Reads labels={placed.components.get(part + 1)} />
                                </li>
                              ) : null,
                            )}
                          </ul>
                        )}
                      </li>
                    );
                  })}
                </ul>
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

/** The values read from one field: on its component rows when it shows them, else on the field. */
function readsOfField(
  labels: readonly SourceLabel[],
  field: ParsedSegment['fields'][number],
): { field: SourceLabel[]; components: Map<number, SourceLabel[]> } {
  const out = { field: [] as SourceLabel[], components: new Map<number, SourceLabel[]>() };
  const shown = (field.components?.length ?? 0) > 1;
  for (const label of labels) {
    const { field: base, component } = splitPosition(label.position);
    if (base !== field.position) continue;
    if (component !== null && shown) {
      const list = out.components.get(component) ?? [];
      list.push(label);
      out.components.set(component, list);
    } else out.field.push(label);
  }
  return out;
}

function Reads({ labels }: { labels: readonly SourceLabel[] | undefined }) {
  if (!labels || labels.length === 0) return null;
  return <span className="history-reads">→ {labels.map((label) => label.text).join('; ')}</span>;
}
