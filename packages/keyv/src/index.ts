export { createKeyv, isKeyv6 } from './create-keyv';
export { KeyvLarder, type KeyvLarderEntry } from './keyv-larder';
export type { CreateKeyvOptions, KeyvClass, KeyvContract, KeyvLarderOptions } from './options';
