/**
 * The gateway's reading of a received message: results read with the instrument's profile,
 * marked QC by its rules, with notes where the profile did not fit; and the same reading with
 * where each value came from, for the detail view, the editor's preview and `decode --profile`.
 */
import type { QcRules } from '../../src-shared/config';
import type { ResultSource } from '../../src-shared/contract';
import { profileNamed, type InstrumentProfile } from '../../src-shared/profiles';
import type { Protocol, Result, StoredResult } from '../../src-shared/results';
import type { CodedError } from '../../src-shared/status';
import { decodeMessages, type DecodedAstmMessage } from '../protocols/astm/message';
import { parseHl7, type Hl7Message } from '../protocols/hl7/message';
import { astmResultPlaces, readAstmField } from './astm-places';
import { hl7ResultPlaces } from './hl7-places';
import { parseLocation } from './locations';
import type { ResultPlaces } from './places';
import { matchingSamplePattern } from './qc';
import { PROFILE_MISMATCH, applyProfile } from './reading';

/** What of an instrument's settings the reading uses. */
export interface ReadSettings {
  profile?: string | undefined;
  qc: QcRules;
}

export interface InstrumentReading {
  results: StoredResult[];
  /** Where the profile did not fit, in plain words (code PROFILE_MISMATCH). */
  notes: CodedError[];
}

export interface ExplainedReading {
  results: Result[];
  /** `sources[i]`: where each value of `results[i]` was read. */
  sources: ResultSource[][];
  notes: CodedError[];
}

/** The profile a setting names; null for the generic reading (or a name no longer known). */
export function profileOf(name: string | null | undefined): InstrumentProfile | null {
  return name ? profileNamed(name) : null;
}

/** Places of every result, with record indexes counted across the messages, as stored. */
function astmPlaces(messages: readonly DecodedAstmMessage[]): ResultPlaces[][] {
  let offset = 0;
  return messages.map((message) => {
    const places = astmResultPlaces(message, offset);
    offset += message.records.length;
    return places;
  });
}

/**
 * Each result with its QC mark. Written out field by field: on the receive path, where every
 * result passes, an object spread costs a hundred times more.
 */
function withQc(
  results: readonly Result[],
  places: readonly ResultPlaces[],
  rules: QcRules,
): StoredResult[] {
  const out: StoredResult[] = new Array<StoredResult>(results.length);
  let lastSample: string | null = null;
  let lastByPattern = false;
  for (let i = 0; i < results.length; i++) {
    const r = results[i]!;
    let qc = rules.messageMarks && places[i]!.qcMark() !== null;
    if (!qc && rules.sampleIds.length > 0 && r.sampleId !== null) {
      // The results of one sample come together; its ID is matched once.
      if (r.sampleId !== lastSample) {
        lastSample = r.sampleId;
        lastByPattern = matchingSamplePattern(r.sampleId, rules) !== null;
      }
      qc = lastByPattern;
    }
    out[i] = {
      sampleId: r.sampleId,
      patientId: r.patientId,
      testCode: r.testCode,
      value: r.value,
      units: r.units,
      flags: r.flags,
      status: r.status,
      observedAt: r.observedAt,
      qc,
    };
  }
  return out;
}

export function readAstmMessages(
  messages: readonly DecodedAstmMessage[],
  settings: ReadSettings,
): InstrumentReading {
  const profile = profileOf(settings.profile);
  const results: StoredResult[] = [];
  const notes: CodedError[] = [];
  const places = astmPlaces(messages);
  messages.forEach((message, m) => {
    const read = profile
      ? applyProfile('astm', message.results, places[m]!, profile)
      : { results: message.results, notes: [] };
    results.push(...withQc(read.results, places[m]!, settings.qc));
    notes.push(...read.notes);
  });
  return { results, notes };
}

export function readHl7Message(message: Hl7Message, settings: ReadSettings): InstrumentReading {
  const profile = profileOf(settings.profile);
  const { results, places } = hl7ResultPlaces(message);
  const read = profile ? applyProfile('hl7', results, places, profile) : { results, notes: [] };
  return { results: withQc(read.results, places, settings.qc), notes: read.notes };
}

/**
 * The sample IDs of the host queries (Q records) in the messages: where the profile says, else
 * the generic place (Q-3 component 2, else 3, of each repeat).
 */
export function readAstmQuerySampleIds(
  messages: readonly DecodedAstmMessage[],
  settings: ReadSettings,
): { sampleIds: string[]; notes: CodedError[] } {
  const profile = profileOf(settings.profile);
  const location = profile?.querySampleId ? parseLocation(profile.querySampleId) : null;
  const sampleIds: string[] = [];
  const notes: CodedError[] = [];
  for (const message of messages) {
    for (const query of message.queries) {
      if (location === null || query.all) {
        sampleIds.push(...query.specimenIds);
        continue;
      }
      const record = message.records[query.record]!;
      const found: string[] = [];
      let present = false;
      for (let repeat = 1; repeat <= Math.max(1, query.startingRange.length); repeat++) {
        const lookup = readAstmField(record, location, query.record, repeat);
        if (typeof lookup === 'object') found.push(lookup.text);
        if (lookup !== 'absent') present = true;
      }
      if (!present) {
        notes.push({
          code: PROFILE_MISMATCH,
          message: `profile "${profile!.name}" (${profile!.title}): the host query has no ${location.text} ("${record.text.slice(0, 40)}"); the sample IDs were read the generic way`,
        });
      }
      sampleIds.push(...(present ? found : query.specimenIds));
    }
  }
  return { sampleIds, notes };
}

export function explainAstm(
  messages: readonly DecodedAstmMessage[],
  profile: InstrumentProfile | null,
): ExplainedReading {
  const out: ExplainedReading = { results: [], sources: [], notes: [] };
  const places = astmPlaces(messages);
  messages.forEach((message, m) => {
    const read = applyProfile('astm', message.results, places[m]!, profile, { sources: true });
    out.results.push(...read.results);
    out.sources.push(...read.sources!);
    out.notes.push(...read.notes);
  });
  return out;
}

export function explainHl7(
  message: Hl7Message,
  profile: InstrumentProfile | null,
): ExplainedReading {
  const { results, places } = hl7ResultPlaces(message);
  const read = applyProfile('hl7', results, places, profile, { sources: true });
  return { results: read.results, sources: read.sources!, notes: read.notes };
}

/**
 * A stored message's text read again with a profile: where each stored value came from (record
 * and segment indexes are those of the Parsed tab), or how a profile would read it.
 */
export function explainStoredText(
  protocol: Protocol,
  text: string,
  profile: InstrumentProfile | null,
): ExplainedReading {
  if (protocol === 'astm') return explainAstm(decodeMessages(text), profile);
  let message: Hl7Message;
  try {
    message = parseHl7(text);
  } catch {
    return { results: [], sources: [], notes: [] };
  }
  return explainHl7(message, profile);
}
