/**
 * One search workload run both in Node (src/) and in a browser page (dist/browser): the first
 * BASE SIFT vectors under l2, QUERIES queries, top K, same index parameters and seed.
 */
import { Engine, type EngineOptions } from '../../src/index';
import type { BrowserPage, Elex } from './browser';
import { readFvecs } from './data';

export const BASE = 2000;
export const QUERIES = 100;
export const K = 10;
export const INDEX = { dim: 128, metric: 'l2', M: 16, efConstruction: 100, efSearch: 64, seed: 11 } as const;

/** What a run returns: which build ran, result ids (QUERIES rows of K), and compileStreaming calls seen. */
export interface SearchRun {
  simd: boolean;
  ids: number[];
  streamed: number;
}

/** The workload's data from data/sift128. */
export function nodeData(): { base: Float32Array; queries: Float32Array } {
  return {
    base: readFvecs('sift128_base.fvecs').data.subarray(0, BASE * 128),
    queries: readFvecs('sift128_query.fvecs').data.subarray(0, QUERIES * 128),
  };
}

/** The workload in Node with `options`. */
export async function runInNode(options: EngineOptions): Promise<SearchRun> {
  const { base, queries } = nodeData();
  const engine = await Engine.create(options);
  const index = engine.createIndex(INDEX);
  index.addBatch(
    Uint32Array.from({ length: BASE }, (_, i) => i),
    base,
  );
  const ids = Array.from(index.searchBatch(queries, K).ids);
  const simd = engine.simd;
  engine.dispose();
  return { simd, ids, streamed: 0 };
}

/** The workload in `page` (fixture loaded) with `options`; data fetched from /data/. */
export function runInPage(page: BrowserPage, options: EngineOptions): Promise<SearchRun> {
  return page.evaluate(
    async ({ options, BASE, QUERIES, K, INDEX }) => {
      const E = (window as unknown as { elex: Elex }).elex;
      const streaming = WebAssembly.compileStreaming;
      let streamed = 0;
      WebAssembly.compileStreaming = (source) => {
        streamed++;
        return streaming(source);
      };
      const load = async (file: string) =>
        E.parseFvecs(new Uint8Array(await (await fetch(`/data/${file}`)).arrayBuffer())).data;
      const base = (await load('sift128_base.fvecs')).subarray(0, BASE * 128);
      const queries = (await load('sift128_query.fvecs')).subarray(0, QUERIES * 128);
      const engine = await E.Engine.create(options);
      const index = engine.createIndex(INDEX);
      index.addBatch(
        Uint32Array.from({ length: BASE }, (_, i) => i),
        base,
      );
      const ids = Array.from(index.searchBatch(queries, K).ids);
      const simd = engine.simd;
      engine.dispose();
      WebAssembly.compileStreaming = streaming;
      return { simd, ids, streamed };
    },
    { options, BASE, QUERIES, K, INDEX },
  );
}
