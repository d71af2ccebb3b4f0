/**
 * What of a stored message goes where: patient results to the instrument's destinations, QC
 * and calibration results only to the destinations its QC rules name, excluded codes nowhere.
 */
import type { InstrumentConfig } from '../../src-shared/config';
import type { StoredResult } from '../../src-shared/results';
import { mapResults, type MappedResult } from './mapping';

export interface ForwardingPlan {
  /** Mapped patient results, for the instrument's own destinations. */
  patient: MappedResult[];
  /** Mapped QC and calibration results, for `qcDestinations` only. */
  qc: MappedResult[];
  /** The instrument's `qc.forwardTo`; empty: QC results stay in the gateway. */
  qcDestinations: string[];
}

export function planForwarding(
  results: readonly StoredResult[],
  instrument: Pick<InstrumentConfig, 'testCodes' | 'qc'>,
): ForwardingPlan {
  const patient: MappedResult[] = [];
  const qc: MappedResult[] = [];
  for (const result of mapResults(results, instrument)) {
    if (result.excluded) continue;
    (result.qc ? qc : patient).push(result);
  }
  return { patient, qc, qcDestinations: [...instrument.qc.forwardTo] };
}

/** One destination of a message and which of its results it receives. */
export interface ForwardingTarget {
  destinationId: string;
  scope: 'patient' | 'qc' | 'all';
}

/**
 * The destinations a stored incoming message goes to: the instrument's `forwardTo` when it
 * carries patient results, `qc.forwardTo` when it carries QC results; none for a message whose
 * results are all excluded, or that has none.
 */
export function forwardingTargets(
  results: readonly StoredResult[],
  instrument: Pick<InstrumentConfig, 'testCodes' | 'qc' | 'forwardTo'>,
): ForwardingTarget[] {
  if (instrument.forwardTo.length === 0 && instrument.qc.forwardTo.length === 0) return [];
  const plan = planForwarding(results, instrument);
  const patient = plan.patient.length > 0 ? instrument.forwardTo : [];
  const qc = plan.qc.length > 0 ? plan.qcDestinations : [];
  const targets = new Map<string, ForwardingTarget>();
  for (const id of patient) targets.set(id, { destinationId: id, scope: 'patient' });
  for (const id of qc) {
    const both = targets.has(id);
    targets.set(id, { destinationId: id, scope: both ? 'all' : 'qc' });
  }
  return [...targets.values()];
}

/** The results of a stored message that one outbox entry sends, mapped for the LIS. */
export function resultsForScope(
  results: readonly StoredResult[],
  instrument: Pick<InstrumentConfig, 'testCodes' | 'qc'>,
  scope: ForwardingTarget['scope'],
): MappedResult[] {
  const plan = planForwarding(results, instrument);
  if (scope === 'patient') return plan.patient;
  if (scope === 'qc') return plan.qc;
  return mapResults(results, instrument).filter((r) => !r.excluded);
}
