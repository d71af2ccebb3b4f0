export { openStore } from './store';
export type { Store, StoreOptions, StoreSettings } from './store';
export { StoreError, simulatedFault } from './errors';
export type { SimulatedFault, StoreErrorCode } from './errors';
export { SCHEMA_VERSION } from './schema';
export type * from './types';
export type {
  AttemptRecord,
  DeliveryItem,
  DestinationRecord,
  OutboxAttempt,
  OutboxFilter,
  OutboxSummary,
} from './outbox';
