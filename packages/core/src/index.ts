export * from './codec';
export type * from './contract';
export * from './errors';
export type * from './store-config';
export * from './ttl';
