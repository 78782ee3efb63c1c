export * from './app-cache';
export * from './cache';
// Deep copy of decoded values (the memory driver's copying mode, the L1): for in-process stores.
export { type CopyTarget, copyInto, copyOut, type Plan, UNCOPYABLE_SIZE } from './clone';
export * from './codec';
export * from './config-from-env';
export type * from './contract';
export { registerDriverEnvironment } from './driver-environments';
export * from './env-reader';
export * from './errors';
export * from './events';
export type * from './l1/invalidation';
export { type L1Options, parseBytes } from './l1/l1-options';
export type { L1Description } from './l1/l1-tier';
export * from './lock';
export * from './manager';
export * from './redact';
export * from './scrub';
export type * from './store-config';
export type * from './store-description';
export * from './testing/chaos-store';
export * from './tick-batcher';
export { withTimeout } from './timeout';
export {
  type CacheTier,
  type OperationTraceContext,
  operationChannel,
  publishTopology,
  type TopologyTraceEvent,
  topologyChannel,
} from './tracing';
export * from './ttl';
export { rawValueSize } from './value-policy';
