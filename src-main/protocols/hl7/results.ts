/**
 * Normalized results (see the `decode` contract) from any message with OBX segments: ORU^R01,
 * OUL^R22 and the like. Each OBX takes its patient, order and specimen from the groups it sits
 * in, so the segment order of each message structure matters:
 * - ORU^R01 puts SPM after its order's OBX (ORDER_OBSERVATION: OBR, OBX..., SPECIMEN: SPM, OBX...),
 *   so an OBX looks ahead to the SPM of its own OBR group, and each OBR starts a fresh group;
 * - OUL^R22 and the other lab structures put SPM before the orders it covers, so a specimen
 *   applies to every OBR after it until the next SPM or PID.
 */
import type { Result } from '../../../src-shared/results';
import type { Hl7Message, Hl7Segment } from './message';
import { hl7DateTimeToIso } from './time';

function text(value: string): string | null {
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

/** SPM-2 is EIP (placer EI ^ filler EI, each EI's parts as subcomponents); older senders put a plain ID. */
function specimenId(spm: Hl7Segment): string | null {
  for (let component = 1; component <= 2; component++) {
    const id = text(spm.value(2, component, 1));
    if (id !== null) return id;
  }
  return null;
}

function orderSampleId(obr: Hl7Segment): string | null {
  return text(obr.value(3)) ?? text(obr.value(2));
}

/**
 * OBX-5 as one string: repetitions of text (TX, FT) become lines, other repetitions are joined
 * with ", "; an SN value is written out (`<^5` → `<5`, `^1^:^128` → `1:128`); other components are
 * joined with `^` so that a coded value keeps its code and text.
 */
export function observationValue(obx: Hl7Segment): string | null {
  // Usually a plain number or word: every data type reads that as itself.
  const plain = obx.plain(5);
  if (plain !== null) return text(plain);
  const type = obx.value(2).trim().toUpperCase();
  const repetitions = obx.field(5).map((repetition) => {
    const components = repetition.map((component) => component.join('&'));
    if (type === 'SN') return components.join('').trim();
    let end = components.length;
    while (end > 1 && components[end - 1] === '') end--;
    return components.slice(0, end).join('^');
  });
  const joined = repetitions.join(type === 'TX' || type === 'FT' ? '\n' : ', ');
  return text(joined);
}

/** OBX-8: each repetition's first component, joined with `~` as HL7 writes them. */
export function abnormalFlags(obx: Hl7Segment): string | null {
  const plain = obx.plain(8);
  if (plain !== null) return text(plain);
  const count = obx.repetitionCount(8);
  const flags: string[] = [];
  for (let r = 1; r <= count; r++) {
    const flag = obx.value(8, 1, 1, r).trim();
    if (flag !== '') flags.push(flag);
  }
  return flags.length === 0 ? null : flags.join('~');
}

function isOruStructure(message: Hl7Message): boolean {
  const type = message.msh.messageType;
  return type.code.toUpperCase() === 'ORU' || type.structure.toUpperCase().startsWith('ORU');
}

/** The segments one result was read from; `results[i]` and `sources[i]` go together. */
export interface Hl7ResultSource {
  obx: Hl7Segment;
  order: Hl7Segment | null;
  specimen: Hl7Segment | null;
  patient: Hl7Segment | null;
}

export function extractResults(message: Hl7Message): Result[] {
  return readResults(message, null);
}

/** The results and, for each, the segments it was read from (for profiles and provenance). */
export function extractResultsWithSources(message: Hl7Message): {
  results: Result[];
  sources: Hl7ResultSource[];
} {
  const sources: Hl7ResultSource[] = [];
  return { results: readResults(message, sources), sources };
}

function readResults(message: Hl7Message, sources: Hl7ResultSource[] | null): Result[] {
  const trailingSpecimen = isOruStructure(message);
  const segments = message.segments;

  // The first SPM of each OBR group, found ahead of the OBX that need it.
  const groupSpecimen = new Map<Hl7Segment, Hl7Segment>();
  let openOrder: Hl7Segment | null = null;
  for (const segment of segments) {
    if (segment.name === 'OBR') openOrder = segment;
    else if (segment.name === 'PID') openOrder = null;
    else if (segment.name === 'SPM' && openOrder !== null && !groupSpecimen.has(openOrder)) {
      groupSpecimen.set(openOrder, segment);
    }
  }

  const results: Result[] = [];
  let patient: Hl7Segment | null = null;
  let order: Hl7Segment | null = null;
  let specimen: Hl7Segment | null = null;
  // The OBX of one group share these; each is read once per group, not once per OBX.
  let patientId: string | null = null;
  let orderObserved: string | null = null;
  let sampleFrom: Hl7Segment | null = null;
  let sampleOrder: Hl7Segment | null = null;
  let sampleId: string | null = null;
  let lastObserved: string | null = null;
  let lastObservedIso: string | null = null;
  for (const segment of segments) {
    switch (segment.name) {
      case 'PID':
        patient = segment;
        patientId = text(patient.value(3));
        order = null;
        orderObserved = null;
        specimen = null;
        break;
      case 'OBR':
        order = segment;
        orderObserved = text(order.value(7));
        if (trailingSpecimen) specimen = null;
        break;
      case 'SPM':
        specimen = segment;
        break;
      case 'OBX': {
        const spm = specimen ?? (order ? groupSpecimen.get(order) : undefined) ?? null;
        if (spm !== sampleFrom || order !== sampleOrder || results.length === 0) {
          sampleFrom = spm;
          sampleOrder = order;
          sampleId = (spm ? specimenId(spm) : null) ?? (order ? orderSampleId(order) : null);
        }
        const observed = text(segment.value(14)) ?? orderObserved;
        if (observed !== lastObserved) {
          lastObserved = observed;
          lastObservedIso = observed === null ? null : hl7DateTimeToIso(observed);
        }
        results.push({
          sampleId,
          patientId,
          testCode: text(segment.value(3)),
          value: observationValue(segment),
          units: text(segment.value(6)),
          flags: abnormalFlags(segment),
          status: text(segment.value(11)),
          observedAt: lastObservedIso,
        });
        sources?.push({ obx: segment, order, specimen: spm, patient });
        break;
      }
    }
  }
  return results;
}
