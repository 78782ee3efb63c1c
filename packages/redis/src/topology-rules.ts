// The Redis cross-field rules, one resolver with two entrances: environment variables (env.ts,
// errors from the EnvReader, so the light `/env` entry imports nothing from core at run time) and
// options given in code (options.ts). Both name the field the way the caller wrote it.

/** The options the cross-field rules read (a `RedisStoreOptions`, or what `REDIS_*` variables give). */
export interface TopologyOptions {
  replicaUrls?: readonly string[] | undefined;
  readFrom?: string | undefined;
  sentinels?: readonly unknown[] | undefined;
  sentinelName?: string | undefined;
  clusterNodes?: readonly unknown[] | undefined;
  /** Ready replica clients (code only; with `client`): somewhere to read from too. */
  replicaClients?: readonly unknown[] | undefined;
}

/** A field the rules name. */
export type TopologyField = Exclude<keyof TopologyOptions, 'replicaClients'>;

/** One entrance of the resolver: how it names each field and builds its errors (`ConfigError`s). */
export interface TopologyEntrance {
  readonly names: Readonly<Record<TopologyField, string>>;
  /** A bad value of one field. */
  invalid(field: TopologyField, value: string, allowed: string): Error;
  /** Fields that conflict; `field` is the one to change. */
  error(message: string, field: TopologyField): Error;
}

/** What each field is called in the environment. */
export const ENV_NAMES: Readonly<Record<TopologyField, string>> = {
  replicaUrls: 'REDIS_REPLICA_URLS',
  readFrom: 'REDIS_READ_FROM',
  sentinels: 'REDIS_SENTINELS',
  sentinelName: 'REDIS_SENTINEL_NAME',
  clusterNodes: 'REDIS_CLUSTER_NODES',
};

/** What each field is called in code. */
export const OPTION_NAMES: Readonly<Record<TopologyField, string>> = {
  replicaUrls: 'replicaUrls',
  readFrom: 'readFrom',
  sentinels: 'sentinels',
  sentinelName: 'sentinelName',
  clusterNodes: 'clusterNodes',
};

/**
 * Checks the fields together: `readFrom` is `primary` or `replica`; Sentinel xor Cluster; no
 * replica URLs in either mode (replicas are discovered there); a Sentinel name only with
 * Sentinels; replica reads only with somewhere to read from. Throws the entrance's error.
 */
export function checkTopology(options: TopologyOptions, entrance: TopologyEntrance): void {
  const name = entrance.names;
  const { readFrom, sentinelName } = options;
  if (readFrom !== undefined && readFrom !== 'primary' && readFrom !== 'replica') {
    throw entrance.invalid('readFrom', String(readFrom), "'primary' or 'replica'");
  }
  const sentinels = isSet(options.sentinels);
  const clusterNodes = isSet(options.clusterNodes);
  const replicaUrls = isSet(options.replicaUrls);
  if (sentinels && clusterNodes) {
    throw entrance.error(
      `${name.sentinels} and ${name.clusterNodes} are both set: choose Sentinel mode or Cluster mode`,
      'clusterNodes',
    );
  }
  if (replicaUrls && (sentinels || clusterNodes)) {
    throw entrance.error(
      `${name.replicaUrls} cannot be combined with ${sentinels ? name.sentinels : name.clusterNodes}: replicas are discovered in that mode`,
      'replicaUrls',
    );
  }
  if (sentinelName !== undefined && !sentinels) {
    throw entrance.error(`${name.sentinelName} is set but ${name.sentinels} is not`, 'sentinelName');
  }
  if (readFrom === 'replica' && !replicaUrls && !sentinels && !clusterNodes && !isSet(options.replicaClients)) {
    throw entrance.error(
      `${name.readFrom}=replica needs ${name.replicaUrls}, ${name.sentinels} or ${name.clusterNodes}`,
      'readFrom',
    );
  }
}

/** A list counts as given when it has an item (the environment reader gives none for an empty variable). */
function isSet(list: readonly unknown[] | undefined): boolean {
  return list !== undefined && list.length > 0;
}
