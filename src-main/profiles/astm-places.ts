/** The records an ASTM result belongs to (its R, O, P and the H of its message), by location. */
import {
  fieldText,
  type AstmResultSource,
  type DecodedAstmMessage,
} from '../protocols/astm/message';
import type { AstmRecord } from '../protocols/astm/records';
import { toIsoTimestamp } from '../protocols/astm/records-time';
import type { Location } from './locations';
import { positionText, preview, type Lookup, type ResultPlaces } from './places';

/** The places of every result of a message; `offset` is the index of its first stored record. */
export function astmResultPlaces(message: DecodedAstmMessage, offset: number): AstmResultPlaces[] {
  const marks = new QcMarks(message);
  return message.resultSources.map(
    (source) => new AstmResultPlaces(message, source, offset, marks),
  );
}

export class AstmResultPlaces implements ResultPlaces {
  constructor(
    private readonly message: DecodedAstmMessage,
    private readonly source: AstmResultSource,
    private readonly offset: number,
    private readonly marks: QcMarks,
  ) {}

  get preview(): string {
    return preview(this.message.records[this.source.record]?.text ?? '');
  }

  read(location: Location): Lookup {
    const index = this.recordIndex(location.record);
    if (index === null) return 'absent';
    return readAstmField(this.message.records[index]!, location, index + this.offset);
  }

  qcMark(): string | null {
    return this.marks.of(this.source.order);
  }

  time(text: string): string | null {
    return toIsoTimestamp(text);
  }

  private recordIndex(type: string): number | null {
    switch (type) {
      case 'R':
        return this.source.record;
      case 'O':
        return this.source.order;
      case 'P':
        return this.source.patient;
      case 'H':
        return this.message.records[0]?.type === 'H' ? 0 : null;
      default:
        return null;
    }
  }
}

/** A message's QC marks, each record read once: results of one order share its mark. */
class QcMarks {
  private header: string | null | undefined;
  private readonly orders = new Map<number, string | null>();

  constructor(private readonly message: DecodedAstmMessage) {}

  /** O-12 `Q` of the result's order, else H-12 `Q` of the message. */
  of(order: number | null): string | null {
    if (order !== null) {
      let mark = this.orders.get(order);
      if (mark === undefined) {
        mark = isQ(this.message.records[order]!.component(12)) ? 'O-12' : null;
        this.orders.set(order, mark);
      }
      if (mark !== null) return mark;
    }
    if (this.header === undefined) {
      const header = this.message.records[0];
      this.header = header?.type === 'H' && isQ(header.component(12)) ? 'H-12' : null;
    }
    return this.header;
  }
}

function isQ(text: string): boolean {
  return text.trim().toUpperCase() === 'Q';
}

/** One location of one record: `repeat` chooses the repeat for component picks (host queries). */
export function readAstmField(
  record: AstmRecord,
  location: Location,
  segment: number,
  repeat = 1,
): Lookup {
  const n = location.field;
  const raw = record.raw(n);
  // Counting the fields scans the record: only needed to tell an empty field from none.
  if (raw === '' && n > record.fieldCount) return 'absent';
  const d = record.delimiters;
  const type = record.type;
  const hasComponents = raw.includes(d.component);
  const found = (text: string, component: number | null, r = 1): Lookup => ({
    text,
    segment,
    position: positionText(type, n, hasComponents ? component : null, r),
  });
  const pick = location.pick;
  switch (pick.kind) {
    case 'field': {
      const text = fieldText(raw, d);
      return text === null ? 'empty' : found(text, null);
    }
    case 'component': {
      const components = record.components(n, repeat);
      if (components.length < pick.index) return 'absent';
      const text = components[pick.index - 1]!.trim();
      return text === '' ? 'empty' : found(text, pick.index, repeat);
    }
    case 'from': {
      const components = record.components(n, repeat);
      if (components.length < pick.index) return 'absent';
      for (let c = pick.index; c <= components.length; c++) {
        const text = components[c - 1]!.trim();
        if (text !== '') return found(text, c, repeat);
      }
      return 'empty';
    }
    case 'any': {
      const repeats = record.repeats(n);
      for (let r = 0; r < repeats.length; r++) {
        const components = repeats[r]!;
        for (let c = 0; c < components.length; c++) {
          const text = components[c]!.trim();
          if (text !== '') return found(text, c + 1, r + 1);
        }
      }
      return 'empty';
    }
  }
}
