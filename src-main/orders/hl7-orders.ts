/**
 * Reads an ORM^O01, OML^O21 or OML^O33 into order changes, one per sample and order control.
 * Pure: no store, no socket. What cannot be read comes back as a problem with the AE/AR it
 * deserves, the segment and field it is about, and plain words for the LIS's operator.
 */
import type { ErrorLocation, Hl7ErrorCode } from '../protocols/hl7/ack';
import type { Hl7Message, Hl7Segment } from '../protocols/hl7/message';
import type { OrderChange } from '../store/orders';

export const ORDER_MESSAGE_TYPES = ['ORM^O01', 'OML^O21', 'OML^O33'] as const;

export interface OrderProblem {
  /** `error`: the message is wrong (AE); `rejected`: not a message we take (AR). */
  kind: 'error' | 'rejected';
  code: Hl7ErrorCode;
  /** Stable code for the log, e.g. ORDER_NO_OBR. */
  reason: string;
  text: string;
  location?: ErrorLocation;
}

export type OrderReading =
  { ok: true; changes: OrderChange[] } | { ok: false; problem: OrderProblem };

interface Group {
  orc: Hl7Segment | null;
  obr: Hl7Segment;
  obrIndex: number;
  spm: Hl7Segment | null;
  patient: Hl7Segment | null;
}

/**
 * `instruments`: ids of this gateway's instruments; MSH-5 naming one of them targets the order
 * at it, anything else means any instrument. `source`: the order source's id, for the history.
 */
export function readOrderMessage(
  message: Hl7Message,
  instruments: ReadonlySet<string>,
  source: string,
): OrderReading {
  const msh = message.msh;
  const type = `${msh.messageType.code.toUpperCase()}^${msh.messageType.trigger.toUpperCase()}`;
  if (!(ORDER_MESSAGE_TYPES as readonly string[]).includes(type)) {
    return fail(
      'rejected',
      '200',
      'ORDER_UNSUPPORTED_TYPE',
      `message type ${type} is not an order; send ORM^O01, OML^O21 or OML^O33`,
      { segment: 'MSH', sequence: 1, field: 9 },
    );
  }
  const groups = collectGroups(message);
  if (groups.length === 0) {
    return fail(
      'error',
      '100',
      'ORDER_NO_OBR',
      'the order has no OBR segment, so no test is ordered',
      { segment: 'OBR', sequence: 1 },
    );
  }
  const instrumentId = instruments.has(msh.receivingApplication) ? msh.receivingApplication : null;
  const merged = new Map<string, OrderChange>();
  for (const group of groups) {
    const where = (field: number): ErrorLocation => ({
      segment: 'OBR',
      sequence: group.obrIndex,
      field,
    });
    const sampleId = sampleOf(group);
    if (!sampleId) {
      return fail(
        'error',
        '101',
        'ORDER_NO_SAMPLE',
        `OBR ${group.obrIndex} has no sample ID (OBR-3, SPM-2, ORC-3 and OBR-2 are all empty)`,
        where(3),
      );
    }
    const action = actionOf(group.orc?.value(1) ?? '');
    if (action === null) {
      return fail(
        'error',
        '103',
        'ORDER_BAD_CONTROL',
        `order control "${group.orc?.value(1)}" is not supported; use NW, CA or XO`,
        { segment: 'ORC', field: 1 },
      );
    }
    const test = group.obr.value(4).trim();
    if (!test && action !== 'cancel') {
      return fail(
        'error',
        '101',
        'ORDER_NO_TEST',
        `OBR ${group.obrIndex} for sample ${sampleId} has no test code (OBR-4)`,
        where(4),
      );
    }
    const key = `${action}\u0000${sampleId}`;
    const change = merged.get(key) ?? {
      action,
      sampleId,
      patientId: group.patient?.value(3).trim() || null,
      patientName: nameOf(group.patient),
      tests: [],
      priority: priorityOf(group),
      instrumentId,
      source,
    };
    if (test) change.tests = [...change.tests, test];
    merged.set(key, change);
  }
  return { ok: true, changes: [...merged.values()] };
}

function fail(
  kind: OrderProblem['kind'],
  code: Hl7ErrorCode,
  reason: string,
  text: string,
  location?: ErrorLocation,
): OrderReading {
  return { ok: false, problem: { kind, code, reason, text, ...(location ? { location } : {}) } };
}

/**
 * ORC/OBR groups with the patient and specimen they belong to. OML^O33 puts SPM before its
 * orders; OML^O21 puts it after the OBR it describes; both are read.
 */
function collectGroups(message: Hl7Message): Group[] {
  const groups: Group[] = [];
  let patient: Hl7Segment | null = null;
  let orc: Hl7Segment | null = null;
  let spm: Hl7Segment | null = null;
  let obrIndex = 0;
  for (const segment of message.segments) {
    switch (segment.name) {
      case 'PID':
        patient = segment;
        break;
      case 'SPM': {
        spm = segment;
        const last = groups.at(-1);
        if (last && last.spm === null) last.spm = segment;
        break;
      }
      case 'ORC':
        orc = segment;
        break;
      case 'OBR':
        groups.push({ orc, obr: segment, obrIndex: ++obrIndex, spm, patient });
        break;
      default:
        break;
    }
  }
  return groups;
}

/** OBR-3, else SPM-2, else ORC-3, else OBR-2 (first components). */
function sampleOf(group: Group): string {
  return (
    group.obr.value(3).trim() ||
    group.spm?.value(2).trim() ||
    group.orc?.value(3).trim() ||
    group.obr.value(2).trim()
  );
}

function actionOf(control: string): OrderChange['action'] | null {
  switch (control.trim().toUpperCase()) {
    case '':
    case 'NW':
      return 'new';
    case 'CA':
    case 'OC':
    case 'DC':
      return 'cancel';
    case 'XO':
      return 'change';
    default:
      return null;
  }
}

/** OBR-5 (older versions), else OBR-27.6, else ORC-7.6. */
function priorityOf(group: Group): string | null {
  return (
    group.obr.value(5).trim() ||
    group.obr.value(27, 6).trim() ||
    group.orc?.value(7, 6).trim() ||
    null
  );
}

/** PID-5 as "FAMILY GIVEN". */
function nameOf(pid: Hl7Segment | null): string | null {
  if (!pid) return null;
  const parts = [pid.value(5, 1), pid.value(5, 2)].map((p) => p.trim()).filter(Boolean);
  return parts.length > 0 ? parts.join(' ') : null;
}
