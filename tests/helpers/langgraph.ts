/**
 * LangGraph test fixtures: deterministic embeddings (each text a seeded pseudo-random vector),
 * and InMemoryStore as the reference, with two of its quirks taken out so it states the
 * semantics ElexStore keeps: a namespace with no items is not listed (InMemoryStore keeps the
 * empty map a delete leaves, or makes one for a delete of nothing), and a put replaces all of an
 * item's vectors (InMemoryStore keeps the vectors of fields the new value no longer embeds).
 */
import { Embeddings } from '@langchain/core/embeddings';
import {
  InMemoryStore,
  type Operation,
  type OperationResults,
  type PutOperation,
} from '@langchain/langgraph-checkpoint';
import { rng } from './random';

/** The FNV-1a hash of `text`. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Embeds each text as a pseudo-random vector seeded by the text (never zero); counts calls. */
export class HashEmbeddings extends Embeddings {
  calls = 0;
  /** Set to make the next calls fail. */
  failWith: Error | undefined;

  constructor(
    readonly dims: number,
    readonly model = 'hash-embeddings-v1',
  ) {
    super({});
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    this.calls++;
    if (this.failWith) throw this.failWith;
    return texts.map((t) => this.vector(t));
  }

  async embedQuery(text: string): Promise<number[]> {
    if (this.failWith) throw this.failWith;
    return this.vector(text);
  }

  private vector(text: string): number[] {
    const next = rng(hash(`${this.model}|${text}`));
    const v = Array.from({ length: this.dims }, () => next() * 2 - 1);
    v[0] += 3; // never zero, and texts share a direction so similarities spread out
    return v;
  }
}

/** InMemoryStore's private parts the reference reaches into. */
interface Internals {
  data: Map<string, Map<string, unknown>>;
  vectors: Map<string, Map<string, unknown>>;
  extractTexts(ops: PutOperation[]): unknown;
}

/** InMemoryStore without the two quirks the file comment names. */
export class ReferenceStore extends InMemoryStore {
  constructor(options?: ConstructorParameters<typeof InMemoryStore>[0]) {
    super(options);
    const self = this as unknown as Internals;
    const extract = self.extractTexts.bind(this);
    // Called with the batch's puts after its reads, before their new vectors go in.
    self.extractTexts = (ops) => {
      for (const op of ops) self.vectors.get(op.namespace.join(':'))?.delete(op.key);
      return extract(ops);
    };
  }

  override async batch<Op extends readonly Operation[]>(operations: Op): Promise<OperationResults<Op>> {
    const results = await super.batch(operations);
    const self = this as unknown as Internals;
    for (const [ns, items] of self.data) if (items.size === 0) self.data.delete(ns);
    for (const op of operations) {
      const put = op as PutOperation;
      if ('value' in op && put.value === null) self.vectors.get(put.namespace.join(':'))?.delete(put.key);
    }
    return results;
  }
}

const WORDS = 'tea coffee green blue walk run paris rome code test memo plan user agent fact note'.split(' ');

/**
 * `steps` batches of seeded random operations over nested namespaces (['u1'..'u3', 'mem'|'prefs'|
 * 'notes', 'a'|'b']): puts (sometimes not indexed, or other fields), deletes, gets, filter and
 * query searches with limit and offset, listNamespaces; one in five a batch of 2-4.
 */
export function randomOps(seed: number, steps: number): Operation[][] {
  const next = rng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)];
  const namespace = () => {
    const ns = [pick(['u1', 'u2', 'u3'])];
    if (next() < 0.8) ns.push(pick(['mem', 'prefs', 'notes']));
    if (next() < 0.4) ns.push(pick(['a', 'b']));
    return ns;
  };
  const prefix = () => namespace().slice(0, Math.floor(next() * 4));
  const text = () => Array.from({ length: 1 + Math.floor(next() * 3) }, () => pick(WORDS)).join(' ');
  const value = () => ({
    text: text(),
    kind: pick(['fact', 'pref', 'episode']),
    n: Math.floor(next() * 10),
    ...(next() < 0.5 ? { notes: Array.from({ length: Math.floor(next() * 3) }, text) } : {}),
    ...(next() < 0.3 ? { meta: { source: pick(['chat', 'tool']) } } : {}),
  });
  const filter = () =>
    pick<Record<string, unknown> | undefined>([
      undefined,
      { kind: pick(['fact', 'pref', 'episode']) },
      { n: { $gte: Math.floor(next() * 10) } },
      { n: { $lt: 5 }, kind: { $ne: 'fact' } },
      { kind: { $in: ['fact', 'pref'] } },
      { kind: { $nin: ['episode'] }, n: { $gt: 2, $lte: 8 } },
      { n: { $eq: 3 } },
      { missing: 'x' },
    ]);
  const one = (): Operation => {
    const r = next();
    if (r < 0.4) {
      const index = pick<undefined | false | string[]>([
        undefined,
        undefined,
        false,
        ['kind'],
        ['notes[*]', 'meta.source'],
      ]);
      return { namespace: namespace(), key: `k${Math.floor(next() * 25)}`, value: value(), index };
    }
    if (r < 0.48) return { namespace: namespace(), key: `k${Math.floor(next() * 25)}`, value: null };
    if (r < 0.62) return { namespace: namespace(), key: `k${Math.floor(next() * 25)}` };
    if (r < 0.78)
      return {
        namespacePrefix: prefix(),
        filter: filter(),
        limit: 1 + Math.floor(next() * 12),
        offset: pick([0, 0, 2, 5]),
      };
    if (r < 0.9)
      return {
        namespacePrefix: prefix(),
        filter: pick([undefined, undefined, filter()]),
        query: text(),
        limit: 1 + Math.floor(next() * 10),
        offset: pick([0, 0, 0, 3]),
      };
    const matchConditions = [];
    if (next() < 0.5) matchConditions.push({ matchType: 'prefix' as const, path: prefix() });
    if (next() < 0.3) matchConditions.push({ matchType: 'suffix' as const, path: [pick(['mem', 'a', 'b', '*'])] });
    return {
      matchConditions: matchConditions.length ? matchConditions : undefined,
      maxDepth: pick([undefined, 1, 2]),
      limit: pick([100, 3]),
      offset: pick([0, 1]),
    };
  };
  return Array.from({ length: steps }, () =>
    next() < 0.8 ? [one()] : Array.from({ length: 2 + Math.floor(next() * 3) }, one),
  );
}

/** A deep copy of a result (InMemoryStore hands out its own objects, which later puts change). */
export function snapshot<T>(value: T): T {
  return structuredClone(value);
}
