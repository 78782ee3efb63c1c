#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { DEFAULT_SERVICES, SERVICE_NAMES, type ServiceName, startServices } from './services';

const USAGE = `usage: pnpm services [--only ${SERVICE_NAMES.join(',')}] [--env-file path]

Starts real local backends on free loopback ports in the foreground, prints the environment variables to
export (eval-able), and stops everything on Ctrl-C / SIGTERM. Default: ${DEFAULT_SERVICES.join(',')}.
  redis          redis-server primary + 2 replicas + 1 redis-sentinel (master name mymaster)
  memcached      3 memcached + the ElastiCache configuration-endpoint emulator in front of them
  dynamodb       DynamoDB Local (in memory, shared DB) on Java 17
  redis-cluster  a 6-node Redis Cluster (3 masters + 3 replicas)
Needs: apt-get install redis-server redis-sentinel memcached sasl2-bin openjdk-17-jre-headless openssl`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      'env-file': { type: 'string' },
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
  console.error(`starting ${only.join(', ')} ...`);
  const keepAlive = setInterval(() => {}, 1 << 30);
  const services = await startServices({ only: only as ServiceName[], log: (line) => console.error(line) });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`\n${signal}: stopping ...`);
    void services.stop().then(() => {
      clearInterval(keepAlive);
      process.exit(0);
    });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  const lines = Object.entries(services.env).map(([k, v]) => `export ${k}=${shellQuote(v)}`);
  for (const alternative of services.alternatives) {
    lines.push(
      `# alternative: ${Object.entries(alternative)
        .map(([k, v]) => `${k}=${shellQuote(v)}`)
        .join(' ')}`,
    );
  }
  if (values['env-file']) {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(
      values['env-file'],
      `${Object.entries(services.env)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n')}\n`,
    );
    console.error(`wrote ${values['env-file']}`);
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
