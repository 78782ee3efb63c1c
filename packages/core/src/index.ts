export * from './codec';
export * from './config-from-env';
export type * from './contract';
export * from './errors';
export * from './redact';
export type * from './store-config';
export * from './ttl';
