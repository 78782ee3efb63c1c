import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configFromEnv, envVariables } from '@larder/core';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// docker-compose.yml cannot run here (no Docker engine): check it as data, and keep it in step
// with the example's README and with what configFromEnv accepts.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const compose = parse(readFileSync(`${root}docker-compose.yml`, 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const readme = readFileSync(`${root}examples/express-app/README.md`, 'utf8');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  ports?: string[];
  restart?: string;
}

const LARDER_VARIABLES = new Set<string>(envVariables());
const APP_VARIABLES = new Set(['PORT', 'SESSION_SECRET', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);

/** `${NAME:-default}` -> default (what compose uses when the variable is unset). */
function withDefaults(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => [k, String(v).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')]),
  );
}

function hostOf(address: string): string {
  return new URL(address.includes('://') ? address : `tcp://${address}`).hostname;
}

describe('docker-compose.yml', () => {
  const services = compose.services;
  const app = services.app as Service;
  const env = withDefaults(app.environment ?? {});

  it('has the backends and the example app', () => {
    for (const name of [
      'redis-primary',
      'redis-replica-1',
      'redis-replica-2',
      'redis-sentinel',
      'memcached-1',
      'memcached-2',
      'memcached-3',
      'elasticache',
      'dynamodb',
      'dynamodb-init',
      'app',
    ]) {
      expect(services[name], name).toBeDefined();
    }
  });

  it('pins every image tag and builds larder services from this repository', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.build) {
        expect(existsSync(`${root}${service.build.dockerfile}`), name).toBe(true);
        continue;
      }
      expect(service.image, name).toMatch(/^[a-z0-9/._-]+:\d+(\.\d+){1,2}[a-z0-9.-]*$/);
    }
    expect(services.dynamodb?.image).toMatch(/^amazon\/dynamodb-local:\d/);
  });

  it('gives every long-running service a healthcheck, and dependencies exist', () => {
    for (const [name, service] of Object.entries(services)) {
      if (name !== 'dynamodb-init') expect(service.healthcheck?.test, name).toBeDefined();
      for (const dependency of Object.keys(service.depends_on ?? {}))
        expect(services[dependency], dependency).toBeDefined();
    }
    expect(app.depends_on?.['dynamodb-init']?.condition).toBe('service_completed_successfully');
  });

  it('runs files the image has: the app, the built CLI, the emulator bundle', () => {
    // Paths inside the image, and what the Dockerfile builds them from.
    const inImage: Record<string, string> = {
      'node_modules/@larder/cli/dist/bin.js': 'packages/cli/src/bin.ts',
      '/opt/larder/emulator/emulator-cli.js': 'packages/dev-services/src/emulator-cli.ts',
    };
    const run = (service: Service) => (service.command ?? []).filter((arg) => /\.(ts|js|cjs)$/.test(arg));
    for (const [name, service] of Object.entries(services)) {
      if (!service.build) continue;
      for (const arg of run(service)) {
        expect(inImage[arg], `${name}: ${arg}`).toBeDefined();
        expect(existsSync(`${root}${inImage[arg]}`), arg).toBe(true);
      }
    }
    expect(run(services.elasticache as Service)).toEqual(['/opt/larder/emulator/emulator-cli.js']);
    expect(run(services['dynamodb-init'] as Service)).toEqual(['node_modules/@larder/cli/dist/bin.js']);
  });

  it('wires the app only with variables configFromEnv knows, pointing at compose services', () => {
    for (const name of Object.keys(env)) {
      expect(LARDER_VARIABLES.has(name) || APP_VARIABLES.has(name), name).toBe(true);
    }
    expect(() => configFromEnv(env)).not.toThrow();
    expect(services[hostOf(env.REDIS_URL as string)]).toBeDefined();
    for (const url of (env.REDIS_REPLICA_URLS as string).split(',')) expect(services[hostOf(url)], url).toBeDefined();
    expect(services[hostOf(env.MEMCACHED_CONFIG_ENDPOINT as string)]).toBeDefined();
    expect(services[hostOf(env.DYNAMODB_ENDPOINT as string)]).toBeDefined();
    const nodes = (services.elasticache?.command ?? []).at(-1) as string;
    for (const node of nodes.split(',')) expect(services[hostOf(node)], node).toBeDefined();
    // Each driver choice the README offers is valid.
    for (const driver of ['redis', 'memcached', 'dynamodb', 'memory']) {
      expect(() => configFromEnv({ ...env, CACHE_DRIVER: driver, SESSION_DRIVER: driver })).not.toThrow();
    }
  });

  it('is in step with the example README', () => {
    expect(readme).toContain('docker compose up --build');
    for (const name of Object.keys(env)) expect(readme, name).toContain(name);
    for (const service of ['redis-primary', 'elasticache', 'dynamodb', 'app'])
      expect(readme, service).toContain(service);
  });
});
