/**
 * StateEncoder: turns a row of (aggregated) counters into the two forms an agent needs: a uint32
 * state key for its Q-table, and a small float vector for a VectorIndex, so that similar states
 * can be searched. Plain JavaScript (no engine memory).
 *
 * Each field is binned: a range field splits [min, max] into `bins` equal bins (values outside
 * go to the first or last bin); an edges field has explicit cut points (bin = how many edges are
 * <= the value), e.g. quantiles learned from samples with {@link StateEncoder.learn}.
 *
 * Key: the bins combined in mixed radix, field 0 least significant,
 *   key = b0 + n0 * (b1 + n1 * (b2 + ...)),     n_i = bins of field i,
 * when the product of the bins (`states`) is at most 2^32 (`exact`): then two rows get the same
 * key exactly when every field falls in the same bin, and {@link StateEncoder.decode} inverts it.
 * Beyond 2^32 the key is a 32-bit hash (MurmurHash3 mixing) of the bin indices: rows in the same
 * bins still share a key, and two different bin tuples collide with probability ~2^-32 (among n
 * distinct states, about n^2 / 2^33 colliding pairs are expected: ~0.01 at 10,000 states).
 *
 * Vector: one component a field in [0, 1]: (value - min) / (max - min) clamped for a range
 * field; for an edges field, the bin plus the value's position between its two edges, over the
 * bins (a piecewise-linear CDF when the edges are quantiles). Nearby values give nearby vectors,
 * so search it with metric 'l2' (cosine ignores magnitude).
 */
import { InvalidArgumentError, InvalidVectorError } from '../errors.js';
import { checkArrayLike, checkInt, checkOptionNames, optionNames } from '../util/validate.js';

/** Most bins a field may have. */
export const MAX_STATE_BINS = 65536;
const TWO_32 = 4294967296;

/** A field binned over [min, max] into `bins` equal bins. */
export interface RangeField {
  /** For messages and {@link StateEncoder.fields}; default `field<i>`. */
  name?: string;
  /** Lower end (finite); values below it fall in bin 0. */
  min: number;
  /** Upper end (finite, > min); values at or above it fall in the last bin. */
  max: number;
  /** Number of bins, 1..65536. */
  bins: number;
}

/** A field binned by explicit cut points: bin = how many edges are <= the value. */
export interface EdgesField {
  /** For messages and {@link StateEncoder.fields}; default `field<i>`. */
  name?: string;
  /** Strictly ascending finite cut points, at most 65535: edges.length + 1 bins. */
  edges: readonly number[];
  /** Optional: the smallest value expected, for the vector of the first bin (else its middle). */
  min?: number;
  /** Optional: the largest value expected, for the vector of the last bin (else its middle). */
  max?: number;
}

/** One field of a state: {@link RangeField} or {@link EdgesField}. */
export type StateField = RangeField | EdgesField;

/** Options of {@link StateEncoder.learn}. */
export interface LearnFieldsOptions {
  /** Bins a field (one number for all, or one a field), 1..65536; ties in the samples may give fewer. */
  bins: number | readonly number[];
  /** Field names, one a field. */
  names?: readonly string[];
}

const RANGE_KEYS = optionNames<RangeField>({ name: true, min: true, max: true, bins: true });
const EDGES_KEYS = optionNames<EdgesField>({ name: true, edges: true, min: true, max: true });
const LEARN_KEYS = optionNames<LearnFieldsOptions>({ bins: true, names: true });

/** A checked field: bins and how to place a value. */
interface Field {
  readonly spec: StateField;
  readonly name: string;
  readonly bins: number;
  /** Range fields: min and max - min (divided by, as the docs' formula does: a reciprocal multiplied put a value on a bin's edge in the bin below). */
  readonly min: number;
  readonly span: number;
  /** Edges fields: the cut points (null for a range field). */
  readonly edges: Float64Array | null;
}

function checkField(field: StateField, i: number): Field {
  if (field === null || typeof field !== 'object') throw new InvalidArgumentError(`fields[${i}] must be an object`);
  const name = field.name ?? `field${i}`;
  if (typeof name !== 'string') throw new InvalidArgumentError(`fields[${i}].name must be a string`);
  const finite = (what: string, v: unknown): number => {
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new InvalidArgumentError(`${name}: ${what} must be a finite number, got ${String(v)}`);
    return v;
  };
  if ('edges' in field) {
    checkOptionNames(`fields[${i}]`, field, EDGES_KEYS);
    checkArrayLike(`${name}.edges`, field.edges);
    if (field.edges.length >= MAX_STATE_BINS)
      throw new InvalidArgumentError(`${name}: at most ${MAX_STATE_BINS - 1} edges, got ${field.edges.length}`);
    const edges = Float64Array.from(field.edges, (e, k) => finite(`edges[${k}]`, e));
    for (let k = 1; k < edges.length; k++) {
      if (!(edges[k] > edges[k - 1]))
        throw new InvalidArgumentError(
          `${name}: edges must be strictly ascending (edges[${k}] = ${edges[k]} <= ${edges[k - 1]})`,
        );
    }
    if (field.min !== undefined && edges.length > 0 && finite('min', field.min) > edges[0]) {
      throw new InvalidArgumentError(`${name}: min (${field.min}) is above the first edge (${edges[0]})`);
    }
    if (field.max !== undefined && edges.length > 0 && finite('max', field.max) < edges[edges.length - 1]) {
      throw new InvalidArgumentError(`${name}: max (${field.max}) is below the last edge (${edges[edges.length - 1]})`);
    }
    return { spec: field, name, bins: edges.length + 1, min: 0, span: 0, edges };
  }
  checkOptionNames(`fields[${i}]`, field, RANGE_KEYS);
  const min = finite('min', field.min);
  const max = finite('max', field.max);
  if (!(max > min)) throw new InvalidArgumentError(`${name}: max (${max}) must be above min (${min})`);
  const bins = checkInt(`${name}.bins`, field.bins, 1, MAX_STATE_BINS);
  const span = max - min;
  if (!Number.isFinite(span)) throw new InvalidArgumentError(`${name}: max - min is too large (${span})`);
  return { spec: field, name, bins, min, span, edges: null };
}

/** MurmurHash3 (x86, 32-bit) of the bin indices, as uint32. */
function hashBins(bins: ArrayLike<number>): number {
  let h = 0x9747b28c;
  for (let i = 0; i < bins.length; i++) {
    let k = Math.imul(bins[i], 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= bins.length * 4;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Index of the first of `edges` above v (= how many edges are <= v). Cost: O(log edges). */
function upperBound(edges: Float64Array, v: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid] <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Encodes rows of features into uint32 state keys (for a QTable) and [0, 1] vectors (for an l2
 * VectorIndex): see the module comment and docs/agent-cycle.md for bins, keys and collisions.
 *
 * @example
 * const encoder = new StateEncoder([{ name: 'latency', min: 0, max: 200, bins: 8 }, { name: 'loss', edges: [0.01, 0.05] }]);
 * const key = encoder.key([35, 0.02]);       // 1 + 8 * 1 = 9
 * const vector = encoder.vector([35, 0.02]);
 */
export class StateEncoder {
  /** Number of fields: a row's length, and the vector's dimension. */
  readonly dim: number;
  /** Product of the fields' bins: how many distinct states there are (may exceed 2^32). */
  readonly states: number;
  /** True when states <= 2^32: keys are the mixed-radix number of the bins, collision-free. */
  readonly exact: boolean;
  private readonly f: Field[];
  private readonly scratch: Uint32Array;

  /**
   * An encoder of rows of `fields.length` values. Throws InvalidArgumentError for an empty list
   * or a bad field (non-finite or reversed range, bins outside 1..65536, edges not strictly
   * ascending, unknown keys).
   */
  constructor(fields: readonly StateField[]) {
    if (!Array.isArray(fields) || fields.length === 0)
      throw new InvalidArgumentError('StateEncoder: fields must be a non-empty array');
    this.f = fields.map(checkField);
    this.dim = this.f.length;
    this.states = this.f.reduce((p, x) => p * x.bins, 1);
    this.exact = this.states <= TWO_32;
    this.scratch = new Uint32Array(this.dim);
  }

  /**
   * An encoder whose fields are edges at the quantiles of `samples` (rows x fields values,
   * row-major): field i's edges are the values at ranks floor(k * rows / bins) for k = 1..bins-1
   * of its sorted column, without repeats or the smallest value, so each bin holds about
   * rows / bins samples (ties give fewer bins); min and max are the column's extremes.
   * Throws InvalidArgumentError for empty samples, a length that is not a multiple of `fields`
   * or bad options, InvalidVectorError for a non-finite sample. Cost: O(rows log rows) a field.
   */
  static learn(samples: ArrayLike<number>, fields: number, options: LearnFieldsOptions): StateEncoder {
    checkArrayLike('samples', samples);
    const dim = checkInt('fields', fields, 1, 0x7fffffff);
    if (options === null || typeof options !== 'object')
      throw new InvalidArgumentError('StateEncoder.learn options must be an object');
    checkOptionNames('StateEncoder.learn', options, LEARN_KEYS);
    if (samples.length === 0 || samples.length % dim !== 0) {
      throw new InvalidArgumentError(
        `StateEncoder.learn: samples has ${samples.length} values; need a non-zero multiple of ${dim}`,
      );
    }
    const bins = typeof options.bins === 'number' ? new Array<number>(dim).fill(options.bins) : options.bins;
    checkArrayLike('bins', bins);
    if (bins.length !== dim)
      throw new InvalidArgumentError(`StateEncoder.learn: bins has ${bins.length} entries for ${dim} fields`);
    if (options.names !== undefined && (!Array.isArray(options.names) || options.names.length !== dim)) {
      throw new InvalidArgumentError(`StateEncoder.learn: names must be an array of ${dim} strings`);
    }
    const rows = samples.length / dim;
    const out: EdgesField[] = [];
    const column = new Float64Array(rows);
    for (let i = 0; i < dim; i++) {
      const n = checkInt(`bins[${i}]`, bins[i], 1, MAX_STATE_BINS);
      for (let r = 0; r < rows; r++) {
        const v = samples[r * dim + i];
        if (typeof v !== 'number' || !Number.isFinite(v))
          throw new InvalidVectorError(`StateEncoder.learn: sample row ${r}, field ${i} is ${String(v)}`);
        column[r] = v;
      }
      column.sort();
      const edges: number[] = [];
      for (let k = 1; k < n; k++) {
        const e = column[Math.floor((k * rows) / n)];
        if (e > (edges.length > 0 ? edges[edges.length - 1] : column[0])) edges.push(e);
      }
      out.push({ ...(options.names ? { name: options.names[i] } : {}), edges, min: column[0], max: column[rows - 1] });
    }
    return new StateEncoder(out);
  }

  /** The fields as given (or learned): their ranges, bins or edges. */
  get fields(): readonly StateField[] {
    return this.f.map((x) => x.spec);
  }

  /** Bins of each field. */
  get binCounts(): number[] {
    return this.f.map((x) => x.bins);
  }

  /** Throws unless row[offset .. offset + dim) are finite numbers. */
  private checkRow(row: ArrayLike<number>, offset: number): void {
    checkArrayLike('row', row);
    if (offset !== 0) checkInt('offset', offset, 0, Number.MAX_SAFE_INTEGER);
    if (row.length < offset + this.dim) {
      throw new InvalidArgumentError(
        `StateEncoder: a row needs ${this.dim} values from offset ${offset}; got ${Math.max(0, row.length - offset)}`,
      );
    }
    for (let i = 0; i < this.dim; i++) {
      const v = row[offset + i];
      if (typeof v !== 'number' || Number.isNaN(v))
        throw new InvalidVectorError(`StateEncoder: ${this.f[i].name} is ${String(v)}`);
    }
  }

  private binOf(x: Field, v: number): number {
    if (x.edges !== null) return upperBound(x.edges, v);
    const b = Math.floor(((v - x.min) / x.span) * x.bins);
    return b < 0 ? 0 : b >= x.bins ? x.bins - 1 : b;
  }

  /**
   * The bin of each field for the row at row[offset..] (NaN: InvalidVectorError; +-Infinity go
   * to the outer bins). Cost: O(fields), O(log edges) for an edges field.
   */
  bins(row: ArrayLike<number>, offset = 0, out: Uint32Array = new Uint32Array(this.dim)): Uint32Array {
    this.checkRow(row, offset);
    for (let i = 0; i < this.dim; i++) out[i] = this.binOf(this.f[i], row[offset + i]);
    return out;
  }

  /** The state key (uint32) of the row at row[offset..]: see the module comment. Cost: O(fields). */
  key(row: ArrayLike<number>, offset = 0): number {
    return this.keyOfBins(this.bins(row, offset, this.scratch));
  }

  /** The state key of bin indices, one a field (each below its field's bins). */
  keyOfBins(bins: ArrayLike<number>): number {
    if (bins.length !== this.dim)
      throw new InvalidArgumentError(`StateEncoder: ${bins.length} bins for ${this.dim} fields`);
    for (let i = 0; i < this.dim; i++) checkInt(`bins[${i}]`, bins[i], 0, this.f[i].bins - 1);
    if (!this.exact) return hashBins(bins);
    let key = 0;
    for (let i = this.dim - 1; i >= 0; i--) key = key * this.f[i].bins + bins[i];
    return key;
  }

  /**
   * The bins a key stands for (exact encoders only: InvalidArgumentError for a hashing one, or a
   * key >= states). Cost: O(fields).
   */
  decode(key: number): Uint32Array {
    if (!this.exact)
      throw new InvalidArgumentError('StateEncoder.decode: keys of this encoder are hashes (more than 2^32 states)');
    checkInt('key', key, 0, this.states - 1);
    const out = new Uint32Array(this.dim);
    for (let i = 0; i < this.dim; i++) {
      out[i] = key % this.f[i].bins;
      key = Math.floor(key / this.f[i].bins);
    }
    return out;
  }

  /**
   * The row's vector for a VectorIndex (dim components in [0, 1]), written to out at outOffset.
   * Cost: O(fields).
   */
  vector(
    row: ArrayLike<number>,
    offset = 0,
    out: Float32Array = new Float32Array(this.dim),
    outOffset = 0,
  ): Float32Array {
    this.checkRow(row, offset);
    for (let i = 0; i < this.dim; i++) {
      const x = this.f[i];
      const v = row[offset + i];
      let t: number;
      if (x.edges === null) t = (v - x.min) / x.span;
      else {
        const b = upperBound(x.edges, v);
        const spec = x.spec as EdgesField;
        const lo = b > 0 ? x.edges[b - 1] : spec.min;
        const hi = b < x.edges.length ? x.edges[b] : spec.max;
        const within = lo === undefined || hi === undefined || !(hi > lo) ? 0.5 : (v - lo) / (hi - lo);
        t = (b + Math.min(1, Math.max(0, within))) / x.bins;
      }
      out[outOffset + i] = Math.min(1, Math.max(0, t));
    }
    return out;
  }

  /**
   * Keys and vectors of `count` rows of dim values (row-major): { keys, vectors } with
   * vectors count x dim. Cost: O(count * fields).
   */
  encode(
    rows: ArrayLike<number>,
    count?: number,
  ): {
    /** The state key of each row. */
    keys: Uint32Array;
    /** Each row's vector, row-major. */
    vectors: Float32Array;
  } {
    checkArrayLike('rows', rows);
    const most = Math.floor(rows.length / this.dim);
    if (count === undefined) count = most;
    else checkInt('count', count, 0, most);
    const keys = new Uint32Array(count);
    const vectors = new Float32Array(count * this.dim);
    for (let r = 0; r < count; r++) {
      keys[r] = this.key(rows, r * this.dim);
      this.vector(rows, r * this.dim, vectors, r * this.dim);
    }
    return { keys, vectors };
  }
}
