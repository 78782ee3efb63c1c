// `@larder/core/driver`: what a driver package imports besides the app API (see
// docs/architecture.md): the store contract, batching, timeouts, secret scrubbing, env readers,
// topology publishing, value sizing and copying, the stored entry format (`ENTRY_FORMAT`), a bounded
// map of the keys set last (`RecentMap`), string reads that stay direct calls (`charIs`, `holds`), and
// `readNow`, a synchronous `get` on in-process stores for larder's own packages.
export type { LockBackend } from './cache/operations/lock';
export { NOT_NOW, readNow } from './cache/read-now';
export { registerDriverEnvironment } from './config/driver-environments';
export {
  type DriverModule,
  type DriverSource,
  defineDriver,
  type LarderDriver,
  type LazyDriver,
} from './config/driver-registry';
export {
  type Env,
  type EnvReader,
  envReader,
  formatHostPort,
  type HostPort,
  parseHostPort,
} from './config/env-reader';
export { parseBytes } from './config/l1-options';
export type { CommonStoreOptions, CustomDriverConfig, DriverEnvironment } from './config/store-config';
export { describe } from './contract/errors';
export type * from './contract/invalidation';
export type * from './contract/rate-limit';
export type * from './contract/store';
export type * from './contract/store-description';
export { QUIET_FLEET_ROOT } from './l1/fleet-store';
export { BUILTIN_DRIVERS, DEFAULT_PREFIX, type DriverImporter, isCacheStore } from './manager/manager';
export {
  type BucketState,
  decideInProcess,
  type FixedState,
  type InProcessResult,
  type InProcessState,
  type SlidingState,
} from './rate-limit/in-process';
export { RecentMap } from './util/recent-map';
export { isSecretName, REDACTED, redactConfig, redactEnvValue, redactText, redactUrl } from './util/redact';
export { type ScrubErrorOptions, scrubError, scrubText, secretList } from './util/scrub';
export { TickBatcher, type TickBatcherOptions } from './util/tick-batcher';
export { withTimeout } from './util/timeout';
export { type CacheTier, publishTopology, type TopologyTraceEvent, topologyChannel } from './util/tracing';
export { checkUrlUserinfo, isValidUserinfo, splitUrl, type UrlParts } from './util/url-userinfo';
export { type CopyTarget, copyInto, copyOut, type Plan, UNCOPYABLE_SIZE } from './values/clone';
export { payloadBytes } from './values/codec';
export { copyBytes, ownedBytes } from './values/copy-plan';
export { ENTRY_FORMAT, sectionOf, type TagStamp } from './values/entry-format';
export { type JsonDialect, type JsonRefusal, jsonRefusal, jsonSize, refusedLeaf } from './values/json-walk';
export { charIs, holds } from './values/string-calls';
export { parseTtl } from './values/ttl';
export { rawValueSize } from './values/value-policy';
