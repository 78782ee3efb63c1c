#!/usr/bin/env node
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_SERVICES, type RunningServices, SERVICE_NAMES, type ServiceName, startServices } from './services';

// Not --env-file: Node 20 takes that flag for itself even after the script name.
const DEFAULT_ENV_FILE = '.larder-services/env';

const USAGE = `usage: pnpm services [--only ${SERVICE_NAMES.join(',')}] [--env-out path | --no-env-out]

Starts real local backends on free loopback ports in the foreground, prints the environment variables to
export (eval-able), writes them as KEY=value lines to ${DEFAULT_ENV_FILE} (for another shell:
set -a; . ${DEFAULT_ENV_FILE}; set +a), and stops everything on Ctrl-C / SIGTERM.
Default services: ${DEFAULT_SERVICES.join(',')}.
  redis          redis-server primary + 2 replicas + 1 redis-sentinel (master name mymaster)
  memcached      3 memcached + the ElastiCache configuration-endpoint emulator in front of them
  dynamodb       DynamoDB Local (in memory, shared DB) on Java 17
  redis-cluster  a 6-node Redis Cluster (3 masters + 3 replicas)
Needs: apt-get install redis-server redis-sentinel memcached sasl2-bin openjdk-17-jre-headless openssl`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      'env-out': { type: 'string' },
      'no-env-out': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const only = values.only
    ? values.only
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [...DEFAULT_SERVICES];
  const unknown = only.filter((name) => !(SERVICE_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0) {
    console.error(`unknown service(s): ${unknown.join(', ')}; choose from ${SERVICE_NAMES.join(', ')}`);
    process.exit(2);
  }
  const envFile = values['no-env-out'] ? undefined : resolve(values['env-out'] ?? DEFAULT_ENV_FILE);
  console.error(`starting ${only.join(', ')} ...`);
  const keepAlive = setInterval(() => {}, 1 << 30);
  let services: RunningServices | undefined;
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`\n${signal}: stopping ...`);
    // Still starting: exiting runs the exit hook, which SIGKILLs whatever already started.
    if (!services) process.exit(130);
    void services
      .stop()
      .then(() => (envFile ? rm(envFile, { force: true }) : undefined))
      .then(() => {
        clearInterval(keepAlive);
        process.exit(0);
      });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGHUP', () => shutdown('SIGHUP'));
  services = await startServices({ only: only as ServiceName[], log: (line) => console.error(line) });
  const lines = Object.entries(services.env).map(([k, v]) => `export ${k}=${shellQuote(v)}`);
  for (const alternative of services.alternatives) {
    lines.push(
      `# alternative: ${Object.entries(alternative)
        .map(([k, v]) => `${k}=${shellQuote(v)}`)
        .join(' ')}`,
    );
  }
  if (envFile) {
    await mkdir(dirname(envFile), { recursive: true });
    await writeFile(
      envFile,
      `${Object.entries(services.env)
        .map(([k, v]) => `${k}=${shellQuote(v)}`)
        .join('\n')}\n`,
    );
    console.error(`wrote ${envFile}`);
  }
  console.log(lines.join('\n'));
  console.error('\nready; press Ctrl-C to stop.');
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]*$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

main().catch((error: unknown) => {
  console.error(`larder-services: ${(error as Error).message}`);
  process.exit(1);
});
