import { sectionOf, type TagStamp } from '../values/entry-format';
import type { TaggedWrite } from './tag-policy';

/** What a tagged write carries (see `TagState.prepare`). */
export interface PreparedTags {
  readonly section: string;
  /** The tags and the versions the section holds. */
  readonly stamp: TagStamp;
  readonly write: TaggedWrite;
}

/** `PreparedTags` whose section is built only if asked (a write the store made with its section, `setTagged`, needs it only for an L1's copy). */
export class StoredTags implements PreparedTags {
  #section: string | undefined;

  constructor(
    readonly stamp: TagStamp,
    readonly write: TaggedWrite,
  ) {}

  get section(): string {
    this.#section ??= sectionOf(this.stamp);
    return this.#section;
  }
}
