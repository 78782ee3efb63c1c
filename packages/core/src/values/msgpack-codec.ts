import { ConfigError } from '../contract/errors';
import type { Codec } from './codec';

/** The msgpack codec (optional peer dependency `msgpackr`); not available yet. */
export function msgpackCodec(): Codec {
  throw new ConfigError("codec 'msgpack' needs the optional peer dependency msgpackr", 'codec');
}
