/**
 * The texts a field path names in an item's value (src/langgraph/paths.ts) against
 * @langchain/langgraph-checkpoint's own getTextAtPath, as InMemoryStore calls it (with the path
 * tokenized): the same texts, in the same order, for every path form over random values,
 * nulls, a value's own "$" field and paths that name nothing.
 */
import { dirname, join } from 'node:path';
import { textsAtPath, tokenizePath } from '../../src/langgraph/paths';
import { rng } from '../helpers/random';

// InMemoryStore reads texts with the package's store/utils functions, getTextAtPath taking the
// path tokenized (the ones the package exports, from store/base, take a string and differ).
const utils = join(dirname(require.resolve('@langchain/langgraph-checkpoint')), 'store/utils.cjs');
const { getTextAtPath, tokenizePath: referenceTokens } = require(utils) as {
  getTextAtPath: (value: unknown, tokens: string[]) => string[];
  tokenizePath: (path: string) => string[];
};

const PATHS = [
  '$',
  '',
  'text',
  'a.b',
  'a.b.c',
  'list[*]',
  'list[0]',
  'list[-1]',
  'list[*].text',
  '{text,kind}',
  '{a.b,text}',
  'a.*',
  '*',
  'missing',
  'list[9]',
];

/** A random value: nested objects and arrays of strings, numbers, booleans and nulls. */
function randomValue(next: () => number, depth: number): unknown {
  const r = next();
  if (depth === 0 || r < 0.35) {
    const leaves = [null, true, false, 0, -1.5, 42, '', 'cats', 'dogs and cats'];
    return leaves[Math.floor(next() * leaves.length)];
  }
  if (r < 0.6) return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth - 1));
  const out: Record<string, unknown> = {};
  for (const key of ['text', 'kind', 'a', 'b', 'c', 'list', '$'])
    if (next() < 0.45) out[key] = randomValue(next, depth - 1);
  return out;
}

test('every path over 600 random values gives the reference texts', () => {
  const next = rng(17);
  let texts = 0;
  for (let i = 0; i < 600; i++) {
    const value = { ...(randomValue(next, 3) as object), ...(i % 3 === 0 ? { text: null, kind: null } : {}) };
    for (const path of PATHS) {
      expect(tokenizePath(path)).toEqual(referenceTokens(path));
      const expected = getTextAtPath(value, referenceTokens(path));
      expect({ path, value, texts: textsAtPath(value, path, tokenizePath(path)) }).toEqual({
        path,
        value,
        texts: expected,
      });
      texts += expected.length;
    }
  }
  expect(texts).toBeGreaterThan(1000);
});

test("a null field in braces is the text 'null', and a value's own \"$\" field is read after the whole", () => {
  expect(textsAtPath({ text: null, kind: 'x' }, '{text,kind}')).toEqual(['null', 'x']);
  expect(textsAtPath({ $: 'own' }, '$')).toEqual(['{\n  "$": "own"\n}', 'own']);
});
