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
