#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { type EmulatorMode, startElastiCacheEmulator } from './elasticache-emulator';
import { parseNodeList } from './node-list';

const USAGE = `usage: larder-elasticache-emulator --nodes host:port[,host:port...] [--port 11211] [--host 127.0.0.1]
                                   [--version N] [--legacy] [--mode elasticache|legacy|plain|silent]

Answers ElastiCache memcached auto-discovery ("config get cluster", legacy "get AmazonElastiCache:cluster")
with the given node list. A node may be written host:port or host|ip|port.`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string' },
      port: { type: 'string', default: '11211' },
      host: { type: 'string', default: '127.0.0.1' },
      version: { type: 'string', default: '1' },
      legacy: { type: 'boolean', default: false },
      mode: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || !values.nodes) {
    console.log(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const emulator = await startElastiCacheEmulator({
    nodes: parseNodeList(values.nodes),
    port: Number(values.port),
    host: values.host,
    version: Number(values.version),
    legacy: values.legacy,
    mode: values.mode as EmulatorMode | undefined,
  });
  console.log(
    `ElastiCache configuration endpoint emulator on ${values.host}:${emulator.port} (mode ${emulator.mode}, version ${emulator.version})`,
  );
  console.log(`nodes: ${emulator.nodes.map((n) => `${n.host}|${n.ip ?? ''}|${n.port}`).join(' ')}`);
  const keepAlive = setInterval(() => {}, 1 << 30);
  const shutdown = () => {
    clearInterval(keepAlive);
    void emulator.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  console.error(`larder-elasticache-emulator: ${(error as Error).message}`);
  process.exit(1);
});
