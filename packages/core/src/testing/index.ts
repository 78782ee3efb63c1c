// `@larder/core/testing`: in-process stores for tests of the facade and of integrations.
export * from './chaos-store';
export * from './map-store';
