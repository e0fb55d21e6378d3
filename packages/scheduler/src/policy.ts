// The pure policies, without the database: what benchmarks and the endpoint autoscaler import.
export {
  type AutoscaleDecision,
  type AutoscaleInput,
  type AutoscaleSettings,
  autoscale,
  type LoadSample,
} from './policy/autoscale.ts';
export {
  applyDecision,
  type NodeCapacity,
  type PlacementDecision,
  type PlacementRequest,
  releaseDecision,
} from './policy/capacity.ts';
export { fairOrder, type QueuedEntry, queueAhead, queueKeys } from './policy/fair-queue.ts';
export { firstFit } from './policy/first-fit.ts';
export { LoadHistory } from './policy/load-history.ts';
export { place } from './policy/place.ts';
