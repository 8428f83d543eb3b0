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

/** A deep copy of a result (InMemoryStore hands out its own objects, which later puts change). */
export function snapshot<T>(value: T): T {
  return structuredClone(value);
}
