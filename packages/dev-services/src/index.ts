export { hasBinary, requireBinary } from './binaries';
export type { ProbeTarget } from './connect';
export { type CountingProxy, startCountingProxy } from './counting-proxy';
export { type Dynalite, type StartDynaliteOptions, startDynalite, waitForActiveTable } from './dynalite';
export {
  DEFAULT_DYNAMODB_JAVA_ARGS,
  type DynamoDbEndpoint,
  type DynamoDbLocal,
  dynamoDbLocalHome,
  type StartDynamoDbLocalOptions,
  startDynamoDbLocal,
} from './dynamodb-local';
export {
  clusterConfigPayload,
  configGetClusterResponse,
  type ElastiCacheEmulator,
  type ElastiCacheEmulatorOptions,
  type EmulatedNode,
  type EmulatorMode,
  legacyGetClusterResponse,
  startElastiCacheEmulator,
} from './elasticache-emulator';
export { INSTALL_HINT, MissingBinaryError, ServiceStartError, UnsupportedFeatureError } from './errors';
export { type Fault, type FaultProxy, type FaultProxyOptions, startFaultProxy } from './fault-proxy';
export { freezeProcess } from './freeze';
export { type MemcachedCluster, type MemcachedNode, type StartMemcachedOptions, startMemcached } from './memcached';
export { type BinaryResponse, memcachedAsciiStats, memcachedSaslStats } from './memcached-probe';
export { parseNodeList } from './node-list';
export {
  CLUSTER_BUS_OFFSET,
  type FreePortOptions,
  findFreePort,
  findFreePorts,
  isPortFree,
  MAX_CLUSTER_PORT,
  MAX_PORT,
  MIN_PORT,
} from './ports';
export { type HasProcess, killNode, ManagedProcess, PortInUseError, type ProcessSpec, restartNode } from './process';
export { type RedisServer, type StartRedisOptions, startRedis } from './redis';
export {
  type ClusterNodeInfo,
  parseClusterNodes,
  type RedisCluster,
  type StartRedisClusterOptions,
  startRedisCluster,
} from './redis-cluster';
export { type MonitoredCommand, parseMonitorArgs, type RedisMonitor, watchRedis } from './redis-monitor';
export type { RedisNode } from './redis-node';
export { type RedisReplicaSet, type StartRedisReplicaSetOptions, startRedisReplicaSet } from './redis-replica-set';
export {
  parseInfo,
  type RedisProbeTarget,
  RedisReplyError,
  type RespValue,
  redisCommand,
  redisCommandStats,
  redisCommands,
  redisInfo,
} from './resp';
export type { SaslCredentials } from './sasl';
export {
  DEFAULT_SERVICES,
  type RunningServices,
  SERVICE_NAMES,
  type ServiceName,
  type StartServicesOptions,
  startServices,
} from './services';
export { type DynamoDbRequestOptions, dynamoDbRequest } from './sigv4';
export { generateTestCertificates, type TestCertificates } from './tls';
export { type WaitOptions, waitFor } from './wait';
