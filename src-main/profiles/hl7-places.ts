/** The segments an HL7 result belongs to (its OBX, OBR, SPM, PID and the MSH), by location. */
import type { Result } from '../../src-shared/results';
import type { Hl7Message, Hl7Segment } from '../protocols/hl7/message';
import {
  abnormalFlags,
  extractResultsWithSources,
  observationValue,
  type Hl7ResultSource,
} from '../protocols/hl7/results';
import { hl7DateTimeToIso } from '../protocols/hl7/time';
import type { Location } from './locations';
import { positionText, preview, type Lookup, type ResultPlaces } from './places';

/** Specimen roles (HL7 table 0369) of controls and calibrators. */
const CONTROL_ROLES = new Set(['Q', 'C']);

/** The results of a message and the places of each. */
export function hl7ResultPlaces(message: Hl7Message): {
  results: Result[];
  places: Hl7ResultPlaces[];
} {
  const { results, sources } = extractResultsWithSources(message);
  // Only a profile's lookups need the indexes: built on the first.
  let built: Map<Hl7Segment, number> | null = null;
  const indexOf = (segment: Hl7Segment): number => {
    built ??= new Map(message.segments.map((s, index) => [s, index]));
    return built.get(segment) ?? -1;
  };
  const header = message.segments[0]?.name === 'MSH' ? message.segments[0] : null;
  const roles = new Map<Hl7Segment, string | null>();
  return {
    results,
    places: sources.map((source) => new Hl7ResultPlaces(source, header, indexOf, roles)),
  };
}

export class Hl7ResultPlaces implements ResultPlaces {
  /** `indexOf`: each segment's index in the stored message's text; `roles`: shared marks. */
  constructor(
    private readonly source: Hl7ResultSource,
    private readonly header: Hl7Segment | null,
    private readonly indexOf: (segment: Hl7Segment) => number,
    private readonly roles: Map<Hl7Segment, string | null>,
  ) {}

  get preview(): string {
    return preview(this.source.obx.text);
  }

  read(location: Location): Lookup {
    const segment = this.segmentNamed(location.record);
    if (segment === null) return 'absent';
    return readHl7Field(segment, location, this.indexOf(segment));
  }

  qcMark(): string | null {
    const specimen = this.source.specimen;
    if (specimen === null) return null;
    let mark = this.roles.get(specimen);
    if (mark === undefined) {
      mark = CONTROL_ROLES.has(specimen.value(11).trim().toUpperCase()) ? 'SPM-11' : null;
      this.roles.set(specimen, mark);
    }
    return mark;
  }

  time(text: string): string | null {
    return hl7DateTimeToIso(text);
  }

  private segmentNamed(name: string): Hl7Segment | null {
    switch (name) {
      case 'OBX':
        return this.source.obx;
      case 'OBR':
        return this.source.order;
      case 'SPM':
        return this.source.specimen;
      case 'PID':
        return this.source.patient;
      case 'MSH':
        return this.header;
      default:
        return null;
    }
  }
}

function readHl7Field(segment: Hl7Segment, location: Location, index: number): Lookup {
  const n = location.field;
  if (segment.raw(n) === '' && n > segment.fieldCount) return 'absent';
  const field = segment.field(n);
  const name = segment.name;
  const hasComponents = field.some(
    (repetition) => repetition.length > 1 || repetition[0]!.length > 1,
  );
  const found = (text: string, component: number | null, repeat = 1): Lookup => ({
    text,
    segment: index,
    position: positionText(name, n, hasComponents ? component : null, repeat),
  });
  const pick = location.pick;
  switch (pick.kind) {
    case 'field': {
      const text = wholeField(segment, n);
      return text === null ? 'empty' : found(text, null);
    }
    case 'component': {
      const components = field[0]!;
      if (components.length < pick.index) return 'absent';
      const text = segment.value(n, pick.index).trim();
      return text === '' ? 'empty' : found(text, pick.index);
    }
    case 'from': {
      const components = field[0]!;
      if (components.length < pick.index) return 'absent';
      for (let c = pick.index; c <= components.length; c++) {
        const text = segment.value(n, c).trim();
        if (text !== '') return found(text, c);
      }
      return 'empty';
    }
    case 'any': {
      for (let r = 0; r < field.length; r++) {
        for (let c = 0; c < field[r]!.length; c++) {
          const text = segment.value(n, c + 1, 1, r + 1).trim();
          if (text !== '') return found(text, c + 1, r + 1);
        }
      }
      return 'empty';
    }
  }
}

/** OBX-5 and OBX-8 are read by their data type, as the generic reading does; others as text. */
function wholeField(segment: Hl7Segment, n: number): string | null {
  if (segment.name === 'OBX' && n === 5) return observationValue(segment);
  if (segment.name === 'OBX' && n === 8) return abnormalFlags(segment);
  const repetitions = segment.field(n).map((repetition) => {
    const components = repetition.map((component) => component.join('&'));
    let end = components.length;
    while (end > 0 && components[end - 1]!.trim() === '') end--;
    return components.slice(0, end).join('^');
  });
  let end = repetitions.length;
  while (end > 0 && repetitions[end - 1] === '') end--;
  const text = repetitions.slice(0, end).join('~').trim();
  return text === '' ? null : text;
}
