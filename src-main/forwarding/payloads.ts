/**
 * What a destination receives for one outbox entry: an ORU^R01 (v2.5.1), the `messages --json`
 * object, a FHIR R4 transaction Bundle, or CSV lines, each carrying the entry's control ID so
 * that a resend is recognisable.
 */
import type { DestinationConfig, InstrumentConfig } from '../../src-shared/config';
import { csvCell } from '../../src-shared/csv';
import { outboxControlId } from '../../src-shared/outbox';
import type { MappedResult } from '../profiles/mapping';
import { resultsForScope } from '../profiles/forwarding';
import { serializeHl7, type Hl7FieldInput } from '../protocols/hl7/serializer';
import { formatHl7DateTime } from '../protocols/hl7/time';
import type { DeliveryItem } from '../store/outbox';

/** What the forwarder knows of an instrument when it builds a payload. */
export type InstrumentSettings = Pick<InstrumentConfig, 'testCodes' | 'qc'>;

const NO_MAPPING: InstrumentSettings = {
  testCodes: {},
  qc: { sampleIds: [], messageMarks: true, forwardTo: [] },
};

export interface Payload {
  controlId: string;
  /** The text kept as "what was sent" (also the bytes sent, encoded). */
  text: string;
  contentType: string;
  /** File name extension for file destinations. */
  extension: string;
}

/** The results an entry sends, mapped to LIS codes with the instrument's current table. */
export function entryResults(
  item: DeliveryItem,
  instrument: InstrumentSettings | null,
): MappedResult[] {
  return resultsForScope(item.results, instrument ?? NO_MAPPING, item.scope);
}

export function buildPayload(
  item: DeliveryItem,
  destination: DestinationConfig,
  instrument: InstrumentSettings | null,
  now: number,
): Payload {
  const controlId = outboxControlId(item.id);
  const results = entryResults(item, instrument);
  if (destination.type === 'hl7') {
    const text =
      destination.passthrough && item.protocol === 'hl7'
        ? passthroughHl7(item.text, controlId)
        : buildOru(item, results, controlId, now, destination);
    return { controlId, text, contentType: 'application/hl7-v2', extension: 'hl7' };
  }
  const format = destination.format;
  if (format === 'fhir') {
    const text = JSON.stringify(buildFhirBundle(item, results, controlId));
    return { controlId, text, contentType: 'application/fhir+json', extension: 'json' };
  }
  if (format === 'json') {
    const text = JSON.stringify(buildJson(item, results, controlId));
    return { controlId, text, contentType: 'application/json', extension: 'json' };
  }
  if (format === 'csv') {
    return {
      controlId,
      text: buildCsv(item, results, controlId),
      contentType: 'text/csv',
      extension: 'csv',
    };
  }
  return {
    controlId,
    text: buildOru(item, results, controlId, now, null),
    contentType: 'application/hl7-v2',
    extension: 'hl7',
  };
}

/** The analyzer's own HL7 message, with MSH-10 set to the entry's control ID. */
export function passthroughHl7(text: string, controlId: string): string {
  const segments = text.split(/\r\n|\r|\n/u).filter((s) => s !== '');
  const msh = segments[0] ?? '';
  if (msh.startsWith('MSH') && msh.length > 3) {
    const separator = msh[3]!;
    const fields = msh.split(separator);
    // fields[0] is "MSH", fields[1] MSH-2; MSH-10 is fields[9].
    while (fields.length < 10) fields.push('');
    fields[9] = controlId;
    segments[0] = fields.join(separator);
  }
  return segments.join('\r') + '\r';
}

function component(...parts: string[]): Hl7FieldInput {
  return [parts.map((part) => [part])];
}

function isNumeric(value: string | null): boolean {
  return value !== null && /^[-+]?(\d+\.?\d*|\.\d+)$/u.test(value.trim());
}

/** ISO-8601 as the analyzer gave it → HL7 DTM (digits, with the zone when there is one). */
export function isoToHl7(iso: string | null): string {
  if (iso === null) return '';
  const m =
    /^(\d{4})-?(\d{2})?-?(\d{2})?(?:T(\d{2}):?(\d{2})?:?(\d{2})?(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/u.exec(
      iso.trim(),
    );
  if (!m) return '';
  const [, y, mo = '', d = '', h = '', mi = '', s = '', zone] = m;
  let out = `${y}${mo}${d}${h}${mi}${s}`;
  if (zone === 'Z') out += '+0000';
  else if (zone !== undefined) out += zone.replace(':', '');
  return out;
}

/** ORU^R01 v2.5.1: MSH, PID, then per sample OBR, its OBX, SPM (PROTOCOLS.md). */
export function buildOru(
  item: DeliveryItem,
  results: readonly MappedResult[],
  controlId: string,
  now: number,
  destination: {
    receivingApplication?: string | undefined;
    receivingFacility?: string | undefined;
    encoding?: 'latin1' | 'utf8';
  } | null,
): string {
  const patientId = results.find((r) => r.patientId)?.patientId ?? '';
  const segments: { name: string; fields: Hl7FieldInput[] }[] = [
    {
      name: 'MSH',
      fields: [
        '',
        '',
        'LABGATEWAY',
        item.instrumentId,
        destination?.receivingApplication ?? '',
        destination?.receivingFacility ?? '',
        formatHl7DateTime(now),
        '',
        component('ORU', 'R01', 'ORU_R01'),
        controlId,
        'P',
        '2.5.1',
        ...(destination?.encoding === 'latin1' ? [] : ['', '', '', '', '', 'UNICODE UTF-8']),
      ],
    },
    { name: 'PID', fields: ['1', '', patientId] },
  ];
  const bySample = new Map<string, MappedResult[]>();
  for (const result of results) {
    const key = result.sampleId ?? '';
    let list = bySample.get(key);
    if (!list) bySample.set(key, (list = []));
    list.push(result);
  }
  let obr = 0;
  for (const [sampleId, sampleResults] of bySample) {
    obr++;
    const first = sampleResults[0]!;
    segments.push({
      name: 'OBR',
      fields: [String(obr), '', sampleId, component(first.testCode ?? '', first.testName ?? '')],
    });
    sampleResults.forEach((result, index) => {
      segments.push({
        name: 'OBX',
        fields: [
          String(index + 1),
          isNumeric(result.value) ? 'NM' : 'ST',
          component(result.testCode ?? '', result.testName ?? ''),
          '',
          result.value ?? '',
          result.units ?? '',
          '',
          result.flags ?? '',
          '',
          '',
          result.status ?? '',
          '',
          '',
          isoToHl7(result.observedAt),
          '',
          '',
          '',
          item.instrumentId,
        ],
      });
    });
    segments.push({ name: 'SPM', fields: ['1', sampleId] });
  }
  return serializeHl7({ segments });
}

/** The `messages --json` object of the message, its results as the LIS receives them. */
export function buildJson(
  item: DeliveryItem,
  results: readonly MappedResult[],
  controlId: string,
): Record<string, unknown> {
  return {
    identifier: controlId,
    id: item.messageId,
    instrumentId: item.instrumentId,
    protocol: item.protocol,
    direction: 'in',
    receivedAt: new Date(item.receivedAt).toISOString(),
    controlId: item.messageControlId,
    sampleIds: distinct(results.map((r) => r.sampleId)),
    patientIds: distinct(results.map((r) => r.patientId)),
    profile: item.profile,
    results: results.map((r) => ({
      sampleId: r.sampleId,
      patientId: r.patientId,
      testCode: r.testCode,
      testName: r.testName,
      value: r.value,
      units: r.units,
      flags: r.flags,
      status: r.status,
      observedAt: r.observedAt,
      qc: r.qc,
      instrumentTestCode: r.instrumentTestCode,
    })),
    text: item.text,
  };
}

export const CSV_COLUMNS = [
  'identifier',
  'messageId',
  'instrumentId',
  'sampleId',
  'patientId',
  'testCode',
  'testName',
  'value',
  'units',
  'flags',
  'status',
  'observedAt',
  'qc',
] as const;

export function buildCsv(
  item: DeliveryItem,
  results: readonly MappedResult[],
  controlId: string,
): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of results) {
    lines.push(
      [
        controlId,
        item.messageId,
        item.instrumentId,
        r.sampleId,
        r.patientId,
        r.testCode,
        r.testName,
        r.value,
        r.units,
        r.flags,
        r.status,
        r.observedAt,
        r.qc ? 'true' : 'false',
      ]
        .map((cell) => csvCell(cell))
        .join(','),
    );
  }
  return lines.join('\r\n') + '\r\n';
}

function distinct(values: readonly (string | null)[]): string[] {
  return [...new Set(values.filter((v): v is string => v !== null && v !== ''))];
}

const IDENTIFIER_SYSTEM = 'urn:lab-gateway';
const INTERPRETATION: Record<string, string> = {
  H: 'H',
  L: 'L',
  HH: 'HH',
  LL: 'LL',
  N: 'N',
  A: 'A',
  AA: 'AA',
};
const OBSERVATION_STATUS: Record<string, 'final' | 'preliminary' | 'corrected'> = {
  F: 'final',
  P: 'preliminary',
  C: 'corrected',
};
/** Units that are UCUM as analyzers write them (the common clinical chemistry ones). */
const UCUM =
  /^(mmol\/L|umol\/L|nmol\/L|pmol\/L|mol\/L|g\/L|mg\/L|ug\/L|ng\/L|g\/dL|mg\/dL|U\/L|\[IU\]\/L|%|fL|pg|10\*9\/L|10\*12\/L|s|mL\/min|mm\[Hg\]|mosm\/kg)$/u;

/**
 * A FHIR R4 transaction Bundle: Patient and Specimen created only when no resource has their
 * identifier yet, one Observation per result, and a DiagnosticReport with the entry's identifier.
 */
export function buildFhirBundle(
  item: DeliveryItem,
  results: readonly MappedResult[],
  controlId: string,
): Record<string, unknown> {
  const entries: Record<string, unknown>[] = [];
  const patientId = results.find((r) => r.patientId)?.patientId ?? null;
  const patientRef = patientId === null ? null : `urn:uuid:${uuidFor(controlId, 'patient')}`;
  if (patientId !== null && patientRef !== null) {
    entries.push({
      fullUrl: patientRef,
      resource: {
        resourceType: 'Patient',
        identifier: [{ system: `${IDENTIFIER_SYSTEM}:patient`, value: patientId }],
      },
      request: {
        method: 'POST',
        url: 'Patient',
        ifNoneExist: `identifier=${encodeURIComponent(`${IDENTIFIER_SYSTEM}:patient|${patientId}`)}`,
      },
    });
  }
  const specimenRefs = new Map<string, string>();
  for (const sampleId of distinct(results.map((r) => r.sampleId))) {
    const ref = `urn:uuid:${uuidFor(controlId, `specimen:${sampleId}`)}`;
    specimenRefs.set(sampleId, ref);
    entries.push({
      fullUrl: ref,
      resource: {
        resourceType: 'Specimen',
        identifier: [{ system: `${IDENTIFIER_SYSTEM}:specimen`, value: sampleId }],
        ...(patientRef ? { subject: { reference: patientRef } } : {}),
      },
      request: {
        method: 'POST',
        url: 'Specimen',
        ifNoneExist: `identifier=${encodeURIComponent(`${IDENTIFIER_SYSTEM}:specimen|${sampleId}`)}`,
      },
    });
  }
  const observationRefs: string[] = [];
  results.forEach((result, index) => {
    const ref = `urn:uuid:${uuidFor(controlId, `observation:${index}`)}`;
    observationRefs.push(ref);
    const value = result.value ?? '';
    const numeric = isNumeric(result.value);
    const flag = (result.flags ?? '').trim().toUpperCase();
    const interpretation = INTERPRETATION[flag];
    const effective = fhirDateTime(result.observedAt);
    const specimen = result.sampleId ? specimenRefs.get(result.sampleId) : undefined;
    const observation: Record<string, unknown> = {
      resourceType: 'Observation',
      identifier: [{ system: `${IDENTIFIER_SYSTEM}:result`, value: `${controlId}-${index + 1}` }],
      status: OBSERVATION_STATUS[(result.status ?? '').trim().toUpperCase()] ?? 'final',
      code: {
        coding: [
          {
            system: `${IDENTIFIER_SYSTEM}:test-code`,
            code: result.testCode ?? 'UNKNOWN',
            ...(result.testName ? { display: result.testName } : {}),
          },
        ],
        ...(result.testName ? { text: result.testName } : {}),
      },
      ...(patientRef ? { subject: { reference: patientRef } } : {}),
      ...(effective ? { effectiveDateTime: effective } : {}),
      ...(numeric
        ? {
            valueQuantity: {
              value: Number(value),
              ...(result.units
                ? {
                    unit: result.units,
                    ...(UCUM.test(result.units)
                      ? { system: 'http://unitsofmeasure.org', code: result.units }
                      : {}),
                  }
                : {}),
            },
          }
        : value !== ''
          ? { valueString: value }
          : { dataAbsentReason: { text: 'no value' } }),
      ...(interpretation
        ? {
            interpretation: [
              {
                coding: [
                  {
                    system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation',
                    code: interpretation,
                  },
                ],
              },
            ],
          }
        : {}),
      ...(specimen ? { specimen: { reference: specimen } } : {}),
      device: { display: item.instrumentId },
    };
    entries.push({
      fullUrl: ref,
      resource: observation,
      request: { method: 'POST', url: 'Observation' },
    });
  });
  const reportRef = `urn:uuid:${uuidFor(controlId, 'report')}`;
  entries.push({
    fullUrl: reportRef,
    resource: {
      resourceType: 'DiagnosticReport',
      identifier: [{ system: `${IDENTIFIER_SYSTEM}:report`, value: controlId }],
      status: 'final',
      code: { text: `Results from ${item.instrumentId}` },
      ...(patientRef ? { subject: { reference: patientRef } } : {}),
      issued: new Date(item.receivedAt).toISOString(),
      ...(specimenRefs.size > 0
        ? { specimen: [...specimenRefs.values()].map((reference) => ({ reference })) }
        : {}),
      result: observationRefs.map((reference) => ({ reference })),
    },
    request: {
      method: 'POST',
      url: 'DiagnosticReport',
      ifNoneExist: `identifier=${encodeURIComponent(`${IDENTIFIER_SYSTEM}:report|${controlId}`)}`,
    },
  });
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    identifier: { system: `${IDENTIFIER_SYSTEM}:outbox`, value: controlId },
    entry: entries,
  };
}

/** FHIR dateTime: the analyzer's time, with seconds; a time without a zone is given as such. */
function fhirDateTime(iso: string | null): string | null {
  if (iso === null) return null;
  const text = iso.trim();
  if (/^\d{4}(-\d{2}(-\d{2})?)?$/u.test(text)) return text;
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/u.exec(
    text,
  );
  if (!m) return null;
  const [, date, h, mi, s = '00', fraction = '', zone] = m;
  // FHIR requires a zone once there is a time; an analyzer's local time is read as UTC's offset 0
  // only when it said so, otherwise the date alone is sent.
  if (zone === undefined) return date!;
  return `${date}T${h}:${mi}:${s}${fraction}${zone}`;
}

/** A stable UUID-shaped name for a resource of an entry (same on every resend). */
function uuidFor(controlId: string, what: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  const text = `${controlId}/${what}`;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  const a = hex(h1);
  const b = hex(h2);
  const c = hex(Math.imul(h1 ^ h2, 0x27d4eb2d) >>> 0);
  const d = hex(Math.imul(h2 + 0x9e3779b9, 0x85ebca6b) >>> 0);
  return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-8${c.slice(1, 4)}-${c.slice(4)}${d}`;
}
