/**
 * LangChain test fixtures: embeddings that look texts up in a table (real SIFT-128 vectors as
 * the "embeddings" of texts 'doc <i>' and 'query <q>'), and the documents of those texts.
 */
import { Document } from '@langchain/core/documents';
import { Embeddings } from '@langchain/core/embeddings';
import { readFvecs } from './data';

/** Embeds each text as the vector the table gives it; a text it does not know is an error. */
export class TableEmbeddings extends Embeddings {
  calls = 0;

  constructor(private readonly table: Map<string, number[]>) {
    super({});
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    this.calls++;
    return texts.map((t) => this.vector(t));
  }

  async embedQuery(text: string): Promise<number[]> {
    return this.vector(text);
  }

  private vector(text: string): number[] {
    const v = this.table.get(text);
    if (v === undefined) throw new Error(`TableEmbeddings: no vector for '${text}'`);
    return v.slice();
  }
}

/** `docs` SIFT base vectors as 'doc <i>' and `queries` SIFT queries as 'query <q>', with metadata. */
export function siftCorpus(docs: number, queries: number) {
  const base = readFvecs('sift128_base.fvecs');
  const query = readFvecs('sift128_query.fvecs');
  const table = new Map<string, number[]>();
  const row = (f: { dim: number; data: Float32Array }, i: number) =>
    Array.from(f.data.subarray(i * f.dim, (i + 1) * f.dim));
  const texts: string[] = [];
  const metadatas: { i: number; parity: string; tags: string[] }[] = [];
  for (let i = 0; i < docs; i++) {
    texts.push(`doc ${i}`);
    metadatas.push({ i, parity: i % 2 ? 'odd' : 'even', tags: [`m${i % 7}`] });
    table.set(`doc ${i}`, row(base, i));
  }
  const queryTexts: string[] = [];
  for (let q = 0; q < queries; q++) {
    queryTexts.push(`query ${q}`);
    table.set(`query ${q}`, row(query, q));
  }
  const documents = texts.map((pageContent, i) => new Document({ pageContent, metadata: metadatas[i], id: `d${i}` }));
  return { table, texts, metadatas, queryTexts, documents, embeddings: new TableEmbeddings(table) };
}

/** The pageContent of each document. */
export const contents = (docs: { pageContent: string }[]) => docs.map((d) => d.pageContent);

/** Share of `expected` found in `actual`. */
export function overlap(actual: string[], expected: string[]): number {
  const set = new Set(actual);
  return expected.length === 0 ? 1 : expected.filter((e) => set.has(e)).length / expected.length;
}
