export { ENTRY_VECTORS, type EntryVector } from './entry-vectors';
export * from './faults/fault-matrix';
export * from './faults/secret-sweep';
export * from './faults/store-fault';
export type { ErrorClass, WaitForOptions } from './helpers';
export { collect, delay, describeError, expectError, expectLarderError, uniqueKey, waitFor } from './helpers';
export { activeResources, processListeners } from './leaks';
export type {
  CacheOverrides,
  CacheUnderTest,
  Capability,
  ConformanceOptions,
  DescribeFunction,
  Group,
  HookFunction,
  ItFunction,
  LockUnderTest,
  StatsUnderTest,
  SuiteContext,
  TestBody,
} from './options';
export { CAPABILITIES, GROUPS } from './options';
export { runConformanceSuite } from './suite';
