import { ConfigError, describe } from '../contract/errors';
import type { CacheStore } from '../contract/store';
import { type Codec, jsonCodec } from '../values/codec';
import { withSeparator } from '../values/key-policy';
import { msgpackCodec } from '../values/msgpack-codec';
import { PipelineStore } from '../values/pipeline-store';
import { parseByteSize } from '../values/value-options';
import { ValueSteps } from '../values/value-steps';
import type { CacheOptions } from './options';

/**
 * The cache's options with the value pipeline applied (core README "Values"): the codec resolved
 * from its name, and the store wrapped in a `PipelineStore` when a step after the codec is on
 * (`compress`, `encrypt`, a `maxValueBytes` ceiling). Checked here, once (`ConfigError`). A store
 * that keeps values as given (`rawValues`: the memory driver's copies) has no bytes to transform
 * and is used as it is.
 */
export function withValuePipeline(options: CacheOptions): CacheOptions & { codec?: Codec } {
  if (options === null || typeof options !== 'object') return options;
  const { compress, encrypt, maxValueBytes } = options;
  const codec = resolveCodec(options.codec);
  const pipelined =
    (compress !== undefined && compress !== false) || encrypt !== undefined || maxValueBytes !== undefined;
  if (!pipelined || options.store == null)
    return codec === options.codec ? (options as CacheOptions & { codec?: Codec }) : { ...options, codec };
  const steps = new ValueSteps(compress, encrypt);
  const ceiling = maxValueBytes === undefined ? undefined : parseByteSize(maxValueBytes);
  const basePrefix = withSeparator(typeof options.prefix === 'string' ? options.prefix : '');
  const wrap = (store: CacheStore): CacheStore =>
    store?.capabilities?.rawValues === true || typeof store?.get !== 'function'
      ? store
      : new PipelineStore(store, { steps, maxValueBytes: ceiling, basePrefix });
  const given = options.store;
  const store =
    typeof (given as PromiseLike<CacheStore>).then === 'function'
      ? Promise.resolve(given).then(wrap)
      : wrap(given as CacheStore);
  return { ...options, codec, store };
}

/** The codec a `codec` option names. */
function resolveCodec(codec: CacheOptions['codec']): Codec | undefined {
  if (codec === undefined || codec === 'json') return codec === undefined ? undefined : jsonCodec;
  if (codec === 'msgpack') return msgpackCodec();
  if (
    typeof codec !== 'object' ||
    codec === null ||
    typeof codec.encode !== 'function' ||
    typeof codec.decode !== 'function'
  ) {
    throw new ConfigError(
      `codec must be 'json', 'msgpack' or a Codec { encode, decode }, got ${describe(codec)}`,
      'codec',
    );
  }
  return codec;
}
