export { type InstrumentLarder, instrumentLarder } from './instrument';
export { dbSystemName, defaultKeyGroup, type InstrumentLarderOptions, type KeyGroupRule, keyGroup } from './options';
