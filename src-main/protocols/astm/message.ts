/**
 * E1394 messages: a record stream cut into H … L messages, read into header information,
 * normalized results (the contract's `decode` fields), comments and host queries; and the
 * records of outbound messages (answers to host queries, order downloads, result messages).
 */
import type { Result } from '../../../src-shared/results';
import { protocolError, type ProtocolError } from '../errors';
import {
  DEFAULT_DELIMITERS,
  decodeRecords,
  encodeRecord,
  printable,
  textToBytes,
  unescapeText,
  type AstmDelimiters,
  type AstmFieldInput,
  type AstmRecord,
  type AstmLeafInput,
  type AstmTextEncoding,
} from './records';
import { toAstmTimestamp, toIsoTimestamp } from './records-time';

/** What the H record says about the sender and the message. */
export interface AstmHeader {
  delimiters: AstmDelimiters;
  /** H-3 */
  messageControlId: string | null;
  /** H-5, first non-empty component: the instrument's name (`XN-550`, `Afinion 2 Analyzer`). */
  sender: string | null;
  /** H-5 components, trimmed: name, software version, serial number, … as the device lays them. */
  senderParts: string[];
  /** H-10, first non-empty component. */
  receiver: string | null;
  /** H-12: P production, T training, D debugging, Q quality control. */
  processingId: string | null;
  /** H-13 */
  version: string | null;
  /** H-14 as ISO-8601 without zone. */
  timestamp: string | null;
}

/** What one Q record asks the host for. */
export interface AstmQuery {
  /** Index of the Q record in the message's records. */
  record: number;
  /** */
  sequence: string | null;
  /** Q-3 is `ALL`: every patient and specimen. */
  all: boolean;
  /** Q-3 component 1 of the first repeat: the patient ID. */
  patientId: string | null;
  /** Q-3 component 2 of each repeat (component 3 where 2 is empty, as cobas places it). */
  specimenIds: string[];
  /** Q-3 as sent: repeats of unescaped components. */
  startingRange: string[][];
  /** Q-4 as sent. */
  endingRange: string[][];
  /** Q-5 is `ALL` or empty. */
  allTests: boolean;
  /** Q-5 test codes, read like a result's test code (`^^^GLU` → `GLU`). */
  tests: string[];
  /** as ISO-8601. */
  beginAt: string | null;
  endAt: string | null;
  /** O orders requested, A abort the last request, … */
  status: string | null;
}

/** A C record and what it annotates. */
export interface AstmComment {
  /** Index of the C record in the message's records. */
  record: number;
  /** Index of the record it annotates (the nearest earlier record that is not C or M). */
  attachedTo: number | null;
  /** C-3: I instrument, L computer system. */
  source: string | null;
  /** C-4 components of the first repeat, trimmed. */
  parts: string[];
  /** The non-empty parts joined by a space. */
  text: string;
  /** C-5: G generic, T test name, I instrument flag, … */
  kind: string | null;
}

/** Where a normalized result came from; `results[i]` and `resultSources[i]` go together. */
export interface AstmResultSource {
  /** Index of the R record in the message's records. */
  record: number;
  /** Index of the P record it belongs to, if any. */
  patient: number | null;
  /** Index of the O record it belongs to, if any. */
  order: number | null;
  /** Indexes of the C records attached to the R record. */
  comments: number[];
}

export interface DecodedAstmMessage {
  protocol: 'astm';
  /** From the message's H record; null when the records arrived without one. */
  header: AstmHeader | null;
  /** Every record in order, unknown types included. JSON: `{ type, fields }`. */
  records: AstmRecord[];
  results: Result[];
  resultSources: AstmResultSource[];
  comments: AstmComment[];
  queries: AstmQuery[];
  /** L-3: N normal, T sender abort, I no information, F last request processed, … */
  termination: string | null;
  /** The records' text joined by CR. */
  text: string;
  errors: ProtocolError[];
}

/** A problem found below the records (in the frames), placed on the record it affects. */
export interface RecordNote {
  /** Index into the record list given to `assembleMessages`. */
  record: number;
  error: ProtocolError;
}

/**
 * Cuts records into messages: each H starts one, each L ends one. Records before any H (or
 * between an L and the next H) form a message of their own with an ASTM_NO_HEADER error; a
 * message cut short without L gets ASTM_NO_TERMINATOR.
 */
export function assembleMessages(
  records: readonly AstmRecord[],
  notes: readonly RecordNote[] = [],
): DecodedAstmMessage[] {
  const bounds: number[] = [];
  let open = false;
  for (let i = 0; i < records.length; i++) {
    const type = records[i]!.type;
    if (type === 'H' || !open) {
      bounds.push(i);
      open = true;
    }
    if (type === 'L') open = false;
  }
  bounds.push(records.length);
  const messages: DecodedAstmMessage[] = [];
  let note = 0;
  for (let m = 0; m + 1 < bounds.length; m++) {
    const start = bounds[m]!;
    const end = bounds[m + 1]!;
    const isLast = m + 2 === bounds.length;
    const transport: ProtocolError[] = [];
    while (note < notes.length && (isLast || notes[note]!.record < end)) {
      transport.push(notes[note]!.error);
      note++;
    }
    messages.push(readMessage(records.slice(start, end), transport));
  }
  return messages;
}

/** Record text (CR, CR LF or LF separated) → messages. */
export function decodeMessages(
  text: string,
  delimiters: AstmDelimiters = DEFAULT_DELIMITERS,
): DecodedAstmMessage[] {
  return assembleMessages(decodeRecords(text, delimiters));
}

/** One message's records (H first when it has one) → the decoded message. */
export function readMessage(
  records: AstmRecord[],
  transportErrors: readonly ProtocolError[] = [],
): DecodedAstmMessage {
  const errors: ProtocolError[] = [...transportErrors];
  const first = records[0];
  const hasHeader = first !== undefined && first.type === 'H';
  if (first !== undefined && !hasHeader) {
    const d = first.delimiters;
    errors.push(
      protocolError(
        'ASTM_NO_HEADER',
        `${plural(records.length, 'record')} arrived without an H record before them (first: "${preview(first.text)}"); read with delimiters "${d.field}${d.repeat}${d.component}${d.escape}"`,
      ),
    );
  }

  const results: Result[] = [];
  const resultSources: AstmResultSource[] = [];
  const comments: AstmComment[] = [];
  const queries: AstmQuery[] = [];
  let termination: string | null = null;
  let patient: number | null = null;
  let order: number | null = null;
  let patientId: string | null = null;
  let sampleId: string | null = null;
  let anchor: number | null = null;
  let anchorResult = -1;

  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    if (record.problem !== null) {
      errors.push(
        protocolError(
          record.type === 'H' ? 'ASTM_BAD_HEADER' : 'ASTM_UNKNOWN_RECORD',
          `record ${i + 1}: ${record.problem}${record.type === 'H' ? '' : '; kept as is'}`,
        ),
      );
    }
    switch (record.type) {
      case 'P':
        patient = i;
        patientId = patientIdOf(record);
        order = null;
        sampleId = null;
        break;
      case 'O':
        order = i;
        sampleId = sampleIdOf(record);
        break;
      case 'R':
        results.push(readResult(record, sampleId, patientId));
        resultSources.push({ record: i, patient, order, comments: NO_COMMENTS });
        break;
      case 'Q':
        patient = order = null;
        patientId = sampleId = null;
        queries.push(readQuery(record, i));
        break;
      case 'S':
        patient = order = null;
        patientId = sampleId = null;
        break;
      case 'L':
        termination = trimmed(record.component(3));
        break;
      case 'C':
        comments.push(readComment(record, i, anchor));
        if (anchorResult >= 0) {
          const source = resultSources[anchorResult]!;
          source.comments = source.comments === NO_COMMENTS ? [i] : [...source.comments, i];
        }
        continue;
      case 'M':
        continue;
    }
    anchor = i;
    anchorResult = record.type === 'R' ? resultSources.length - 1 : -1;
  }

  const last = records[records.length - 1];
  if (last !== undefined && last.type !== 'L') {
    errors.push(
      protocolError(
        'ASTM_NO_TERMINATOR',
        `the message ends after ${plural(records.length, 'record')} without an L record (last: "${preview(last.text)}"); the transmission was probably cut short`,
      ),
    );
  }

  return {
    protocol: 'astm',
    header: hasHeader ? readHeader(first) : null,
    records,
    results,
    resultSources,
    comments,
    queries,
    termination,
    text: records.map((r) => r.text).join('\r'),
    errors,
  };
}

const NO_COMMENTS: number[] = [];

// ---------------------------------------------------------------------------------------------
// Reading records

/** The contract's normalized result for one R record under its P and O records. */
export function normalizeResult(
  result: AstmRecord,
  patient: AstmRecord | null,
  order: AstmRecord | null,
): Result {
  return readResult(
    result,
    order === null ? null : sampleIdOf(order),
    patient === null ? null : patientIdOf(patient),
  );
}

/** O-3, else O-4: first non-empty component. */
function sampleIdOf(order: AstmRecord): string | null {
  return firstNonEmpty(order, 3) ?? firstNonEmpty(order, 4);
}

/** P-3, else P-4, else P-5: first non-empty component. */
function patientIdOf(patient: AstmRecord): string | null {
  return firstNonEmpty(patient, 3) ?? firstNonEmpty(patient, 4) ?? firstNonEmpty(patient, 5);
}

/** Reads R-3, 4, 5, 7, 9 and 13 in one pass over the record's text. */
function readResult(record: AstmRecord, sampleId: string | null, patientId: string | null): Result {
  const text = record.text;
  const d = record.delimiters;
  let test = '';
  let value = '';
  let units = '';
  let flags = '';
  let status = '';
  let completed = '';
  let start = 0;
  for (let n = 1; n <= 13; n++) {
    let end = text.indexOf(d.field, start);
    if (end < 0) end = text.length;
    switch (n) {
      case 3:
        test = text.slice(start, end);
        break;
      case 4:
        value = text.slice(start, end);
        break;
      case 5:
        units = text.slice(start, end);
        break;
      case 7:
        flags = text.slice(start, end);
        break;
      case 9:
        status = text.slice(start, end);
        break;
      case 13:
        completed = text.slice(start, end);
        break;
    }
    if (end >= text.length) break;
    start = end + 1;
  }
  return {
    sampleId,
    patientId,
    testCode: testCodeText(test, d),
    value: fieldText(value, d),
    units: trimmed(firstComponent(units, d)),
    flags: fieldText(flags, d),
    status: fieldText(status, d),
    observedAt: completed === '' ? null : toIsoTimestamp(firstComponent(completed, d)),
  };
}

function readHeader(h: AstmRecord): AstmHeader {
  const senderParts = h.raw(5) === '' ? [] : h.components(5).map((c) => c.trim());
  return {
    delimiters: h.delimiters,
    messageControlId: trimmed(h.component(3)),
    sender: firstNonEmpty(h, 5),
    senderParts,
    receiver: firstNonEmpty(h, 10),
    processingId: trimmed(h.component(12)),
    version: trimmed(h.component(13)),
    timestamp: toIsoTimestamp(h.component(14)),
  };
}

function readQuery(q: AstmRecord, index: number): AstmQuery {
  const startingRange = q.raw(3) === '' ? [] : q.repeats(3);
  const endingRange = q.raw(4) === '' ? [] : q.repeats(4);
  const all = isAll(q.raw(3));
  const specimenIds: string[] = [];
  if (!all) {
    for (const rep of startingRange) {
      const id = trimmed(rep[1] ?? '') ?? trimmed(rep[2] ?? '');
      if (id !== null) specimenIds.push(id);
    }
  }
  const testsRaw = q.raw(5);
  const allTests = testsRaw.trim() === '' || isAll(testsRaw) || q.component(5, 4).trim() === 'ALL';
  const tests: string[] = [];
  if (!allTests) {
    for (const rep of q.repeats(5)) {
      const code = testCodeOf(rep);
      if (code !== null) tests.push(code);
    }
  }
  return {
    record: index,
    sequence: trimmed(q.component(2)),
    all,
    patientId: all ? null : trimmed(startingRange[0]?.[0] ?? ''),
    specimenIds,
    startingRange,
    endingRange,
    allTests,
    tests,
    beginAt: toIsoTimestamp(q.component(7)),
    endAt: toIsoTimestamp(q.component(8)),
    status: trimmed(q.component(13)),
  };
}

function readComment(c: AstmRecord, index: number, attachedTo: number | null): AstmComment {
  const parts = c.raw(4) === '' ? [] : c.components(4).map((p) => p.trim());
  return {
    record: index,
    attachedTo,
    source: trimmed(c.component(3)),
    parts,
    text: parts.filter((p) => p !== '').join(' '),
    kind: trimmed(c.component(5)),
  };
}

function isAll(raw: string): boolean {
  return raw.trim().toUpperCase() === 'ALL';
}

/** The trimmed text, or null when nothing is left. */
function trimmed(text: string): string | null {
  if (text === '') return null;
  const t = text.trim();
  return t === '' ? null : t;
}

function needsSplitting(raw: string, d: AstmDelimiters): boolean {
  return raw.includes(d.component) || raw.includes(d.repeat) || raw.includes(d.escape);
}

/** First non-empty component of field `n` (across repeats), trimmed. */
function firstNonEmpty(record: AstmRecord, n: number): string | null {
  const raw = record.raw(n);
  if (raw === '') return null;
  if (!needsSplitting(raw, record.delimiters)) return trimmed(raw);
  for (const rep of record.repeats(n)) {
    for (const c of rep) {
      const t = c.trim();
      if (t !== '') return t;
    }
  }
  return null;
}

/** Component 1 of repeat 1, unescaped. */
function firstComponent(raw: string, d: AstmDelimiters): string {
  let end = raw.indexOf(d.component);
  const rep = raw.indexOf(d.repeat);
  if (end < 0 || (rep >= 0 && rep < end)) end = rep;
  const first = end < 0 ? raw : raw.slice(0, end);
  return first.includes(d.escape) ? unescapeText(first, d) : first;
}

/**
 * The universal test ID's 4th component (manufacturer's code), else the first non-empty one
 * after it (`^^^^WBC^1`). A test ID with nothing from the 4th component on (a bare `GLU`) gives
 * its first non-empty component, so a result never loses its test.
 */
function testCodeText(raw: string, d: AstmDelimiters): string | null {
  if (raw === '') return null;
  const repeatEnd = raw.indexOf(d.repeat);
  const end = repeatEnd < 0 ? raw.length : repeatEnd;
  let fallback: string | null = null;
  let start = 0;
  for (let c = 1; start <= end; c++) {
    let stop = raw.indexOf(d.component, start);
    if (stop < 0 || stop > end) stop = end;
    if (stop > start) {
      let part = raw.slice(start, stop);
      if (part.includes(d.escape)) part = unescapeText(part, d);
      const t = part.trim();
      if (t !== '') {
        if (c >= 4) return t;
        fallback ??= t;
      }
    }
    start = stop + 1;
  }
  return fallback;
}

function testCodeOf(components: readonly string[]): string | null {
  for (let i = 3; i < components.length; i++) {
    const t = components[i]!.trim();
    if (t !== '') return t;
  }
  for (let i = 0; i < 3 && i < components.length; i++) {
    const t = components[i]!.trim();
    if (t !== '') return t;
  }
  return null;
}

/**
 * A whole field as display text: escapes decoded, delimiters written back as the message's own
 * characters, trailing empty components and repeats dropped (`NOT DETECTED^` → `NOT DETECTED`),
 * padding trimmed.
 */
export function fieldText(raw: string, d: AstmDelimiters): string | null {
  if (raw === '') return null;
  if (!needsSplitting(raw, d)) return trimmed(raw);
  const repeats: string[] = [];
  for (const rawRepeat of raw.split(d.repeat)) {
    const rep = rawRepeat.split(d.component).map((c) => unescapeText(c, d));
    let end = rep.length;
    while (end > 0 && rep[end - 1]!.trim() === '') end--;
    repeats.push(rep.slice(0, end).join(d.component));
  }
  let end = repeats.length;
  while (end > 0 && repeats[end - 1] === '') end--;
  return trimmed(repeats.slice(0, end).join(d.repeat));
}

function preview(text: string): string {
  const shown = printable(text.length > 40 ? text.slice(0, 40) : text);
  return text.length > 40 ? `${shown}…` : shown;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

// ---------------------------------------------------------------------------------------------
// Outbound messages

export interface AstmOutboundHeader {
  /** H-3 */
  messageControlId?: string;
  /** H-5, e.g. `['LIS', 'GATEWAY']`. */
  sender?: AstmFieldInput;
  /** H-10 */
  receiver?: AstmFieldInput;
  /** H-12, default `P`. */
  processingId?: string;
  /** H-13, default `LIS2-A2`. */
  version?: string;
  /** H-14: LIS2-A2 digits or ISO-8601 (see `formatAstmTimestamp` for the clock's time). */
  timestamp?: string;
}

export interface AstmOutboundResult {
  /** `GLU` (sent as `^^^GLU`) or the universal test ID's components. */
  test: string | readonly AstmLeafInput[];
  /** */
  value: AstmFieldInput;
  /** */
  units?: AstmFieldInput;
  /** */
  referenceRange?: AstmFieldInput;
  /** */
  flags?: AstmFieldInput;
  /** R-9, default `F`. */
  status?: string;
  /** */
  operator?: AstmFieldInput;
  /** R-12, digits or ISO. */
  startedAt?: string;
  /** R-13, digits or ISO. */
  completedAt?: string;
  /** */
  instrument?: AstmFieldInput;
  comments?: readonly string[];
}

export interface AstmOutboundOrder {
  /** O-3 */
  specimenId?: AstmFieldInput;
  /** O-4: echo the instrument's own ID (rack, position) when answering its query. */
  instrumentSpecimenId?: AstmFieldInput;
  /** O-5: test codes (`GLU` → `^^^GLU`) or universal test IDs, one repeat each. */
  tests?: readonly (string | readonly AstmLeafInput[])[];
  /** O-6: S stat, A ASAP, R routine. */
  priority?: string;
  /** O-7, digits or ISO. */
  requestedAt?: string;
  /** O-8, digits or ISO. */
  collectedAt?: string;
  /** O-12: N new, A add, C cancel, … Default `N`. */
  actionCode?: string;
  /** O-16 */
  specimenDescriptor?: AstmFieldInput;
  /** O-26: O order, Q response to a query, F final, X cannot be done, … Default `O`. */
  reportType?: string;
  results?: readonly AstmOutboundResult[];
  comments?: readonly string[];
}

export interface AstmOutboundPatient {
  /** P-3 practice-assigned ID. */
  patientId?: AstmFieldInput;
  /** P-4 laboratory-assigned ID. */
  laboratoryPatientId?: AstmFieldInput;
  /** P-5 */
  patientIdNo3?: AstmFieldInput;
  /** P-6, e.g. `['DOE', 'JOHN']`. */
  name?: AstmFieldInput;
  /** P-8, digits or ISO date. */
  birthDate?: string;
  /** P-9: M, F, U. */
  sex?: string;
  orders?: readonly AstmOutboundOrder[];
  comments?: readonly string[];
}

export interface AstmOutboundQuery {
  patientId?: string;
  /** One starting-range repeat per specimen: `^SID001`. */
  specimenIds?: readonly string[];
  /** Ask for everything: Q-3 `ALL`. */
  all?: boolean;
  /** Test codes, or `ALL` (the default). */
  tests?: 'ALL' | readonly (string | readonly AstmLeafInput[])[];
  /** digits or ISO. */
  beginAt?: string;
  endAt?: string;
  /** Q-13, default `O` (orders requested). */
  status?: string;
}

export interface AstmOutboundMessage {
  header: AstmOutboundHeader;
  patients?: readonly AstmOutboundPatient[];
  queries?: readonly AstmOutboundQuery[];
  /** L-3, default `N`. */
  termination?: string;
}

/**
 * The records of one message, each without its CR: what `recordsToBytes` turns into the input
 * of `layoutFrames`. Sequence numbers restart at 1 under each parent, as LIS2-A2 asks.
 */
export function encodeAstmMessage(
  message: AstmOutboundMessage,
  d: AstmDelimiters = DEFAULT_DELIMITERS,
): string[] {
  const out: string[] = [encodeHeader(message.header, d)];
  const comments = (texts: readonly string[] | undefined): void => {
    texts?.forEach((text, i) => out.push(encodeRecord(['C', String(i + 1), 'L', text, 'G'], d)));
  };
  message.patients?.forEach((patient, p) => {
    out.push(
      encodeRecord(
        [
          'P',
          String(p + 1),
          patient.patientId,
          patient.laboratoryPatientId,
          patient.patientIdNo3,
          patient.name,
          null,
          patient.birthDate === undefined ? null : toAstmTimestamp(patient.birthDate),
          patient.sex,
        ],
        d,
      ),
    );
    comments(patient.comments);
    patient.orders?.forEach((order, o) => {
      out.push(encodeOrder(order, o + 1, d));
      comments(order.comments);
      order.results?.forEach((result, r) => {
        out.push(encodeResult(result, r + 1, d));
        comments(result.comments);
      });
    });
  });
  message.queries?.forEach((query, q) => out.push(encodeQuery(query, q + 1, d)));
  out.push(encodeRecord(['L', '1', message.termination ?? 'N'], d));
  return out;
}

/** The answer to a host query that found orders: H, P/O groups (O-26 `Q`), `L|1|F`. */
export function encodeQueryAnswer(
  header: AstmOutboundHeader,
  patients: readonly AstmOutboundPatient[],
  d: AstmDelimiters = DEFAULT_DELIMITERS,
): string[] {
  const answered = patients.map((patient) => ({
    ...patient,
    orders: patient.orders?.map((order) => ({ ...order, reportType: order.reportType ?? 'Q' })),
  }));
  return encodeAstmMessage({ header, patients: answered, termination: 'F' }, d);
}

/** The answer to a host query the host has nothing for: H, `L|1|I`. */
export function encodeNoInformation(
  header: AstmOutboundHeader,
  d: AstmDelimiters = DEFAULT_DELIMITERS,
): string[] {
  return encodeAstmMessage({ header, termination: 'I' }, d);
}

/** Record texts → one byte array per record (no CR), the shape `layoutFrames` takes. */
export function recordsToBytes(
  records: readonly string[],
  encoding: AstmTextEncoding = 'latin1',
): Buffer[] {
  return records.map((record) => textToBytes(record, encoding));
}

function encodeHeader(h: AstmOutboundHeader, d: AstmDelimiters): string {
  return encodeRecord(
    [
      'H',
      null,
      h.messageControlId,
      null,
      h.sender,
      null,
      null,
      null,
      null,
      h.receiver,
      null,
      h.processingId ?? 'P',
      h.version ?? 'LIS2-A2',
      h.timestamp === undefined ? null : toAstmTimestamp(h.timestamp),
    ],
    d,
  );
}

function encodeOrder(order: AstmOutboundOrder, sequence: number, d: AstmDelimiters): string {
  const fields: AstmFieldInput[] = ['O', String(sequence), order.specimenId];
  fields[3] = order.instrumentSpecimenId;
  fields[4] = order.tests?.map(testId);
  fields[5] = order.priority;
  fields[6] = order.requestedAt === undefined ? null : toAstmTimestamp(order.requestedAt);
  fields[7] = order.collectedAt === undefined ? null : toAstmTimestamp(order.collectedAt);
  fields[11] = order.actionCode ?? 'N';
  fields[15] = order.specimenDescriptor;
  fields[25] = order.reportType ?? 'O';
  return encodeRecord(Array.from(fields), d);
}

function encodeResult(result: AstmOutboundResult, sequence: number, d: AstmDelimiters): string {
  return encodeRecord(
    [
      'R',
      String(sequence),
      testId(result.test),
      result.value,
      result.units,
      result.referenceRange,
      result.flags,
      null,
      result.status ?? 'F',
      null,
      result.operator,
      result.startedAt === undefined ? null : toAstmTimestamp(result.startedAt),
      result.completedAt === undefined ? null : toAstmTimestamp(result.completedAt),
      result.instrument,
    ],
    d,
  );
}

function encodeQuery(query: AstmOutboundQuery, sequence: number, d: AstmDelimiters): string {
  const specimens = query.specimenIds ?? [];
  let range: AstmFieldInput;
  if (query.all === true) range = 'ALL';
  else if (specimens.length === 0) range = [query.patientId];
  else range = specimens.map((id, i) => [i === 0 ? query.patientId : null, id]);
  const tests = query.tests ?? 'ALL';
  const fields: AstmFieldInput[] = ['Q', String(sequence), range, null];
  fields[4] = tests === 'ALL' ? 'ALL' : tests.map(testId);
  fields[6] = query.beginAt === undefined ? null : toAstmTimestamp(query.beginAt);
  fields[7] = query.endAt === undefined ? null : toAstmTimestamp(query.endAt);
  fields[12] = query.status ?? 'O';
  return encodeRecord(Array.from(fields), d);
}

function testId(test: string | readonly AstmLeafInput[]): readonly AstmLeafInput[] {
  return typeof test === 'string' ? ['', '', '', test] : test;
}
