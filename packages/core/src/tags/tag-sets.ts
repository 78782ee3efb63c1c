import { CounterKeys } from './counter-keys';
import type { PreparedTags } from './prepared-tags';

/** Tag lists kept; past this the memo starts over. */
const MAX_SETS = 10_000;

/**
 * One tag list met lately: its counter keys, one array for every call with the same list (a hint
 * or an L1 entry that holds it compares by identity), and what `TagState.known` answered last for
 * it, reused while it holds (no lookup per counter, no section built, nothing allocated).
 */
export interface TagSet {
  readonly keys: readonly string[];
  /** `known`'s last answer, valid while the known versions' `generation` is this one's... */
  known: PreparedTags | undefined;
  generation: number;
  /** ...and its counters outlive the write: the first of them expires then (epoch ms; Infinity: never). */
  expiresAt: number;
}

interface Node {
  next: Map<string, Node> | undefined;
  set: TagSet | undefined;
}

/** The tag lists met lately, by their tags in order: a trie, one map lookup per tag (no key built per call). */
export class TagSets {
  readonly #counterKeys: CounterKeys;
  /** The set of no tags (this cache's own: a set holds its cache's answers). */
  readonly #empty = unknownSet([]);
  #root = new Map<string, Node>();
  #size = 0;

  constructor(prefix: string) {
    this.#counterKeys = new CounterKeys(prefix);
  }

  /** The set of `tags` (in the order given). */
  of(tags: readonly string[]): TagSet {
    const last = tags.length - 1;
    if (last < 0) return this.#empty;
    let level = this.#root;
    let node: Node | undefined;
    for (let i = 0; ; i++) {
      const tag = tags[i] as string;
      node = level.get(tag);
      if (node === undefined) {
        node = { next: undefined, set: undefined };
        level.set(tag, node);
      }
      if (i === last) break;
      node.next ??= new Map();
      level = node.next;
    }
    return node.set ?? this.#add(node, tags);
  }

  #add(node: Node, tags: readonly string[]): TagSet {
    if (this.#size >= MAX_SETS) {
      // Started over: the node stays reachable for this call only.
      this.#root = new Map();
      this.#size = 0;
    }
    this.#size++;
    const set = unknownSet(this.#counterKeys.of(tags));
    node.set = set;
    return set;
  }
}

/** A set of counters `keys` with no answer of `known` yet. */
function unknownSet(keys: readonly string[]): TagSet {
  return { keys, known: undefined, generation: -1, expiresAt: Number.NEGATIVE_INFINITY };
}
