/**
 * Where a host query names its samples. The generic rule reads Q-3 component 2 of each repeat
 * (component 3 where 2 is empty, as cobas places it); an instrument profile that puts the sample
 * ID elsewhere replaces this one function.
 */
import type { AstmQuery } from '../protocols/astm/message';

export function queriedSampleIds(query: AstmQuery): string[] {
  return query.specimenIds.map((id) => id.trim()).filter((id) => id !== '');
}
