/**
 * A plain-JS Q-learner (a Map of rows) the engine's QTable is checked against. It stores float32
 * and rounds with Math.fround after every operation the engine performs in f32, in the same
 * order (saturating at +-F32_MAX where a sum overflows), so the two agree to the last bit; merge
 * is computed in float64 like the engine's.
 */
export interface ReferenceOptions {
  actions: number;
  alpha?: number;
  gamma?: number;
  initial?: number;
}

const f = Math.fround;
const F32_MAX = 3.4028234663852886e38;
/** The engine's saturation: an overflowed float32 sum becomes +-F32_MAX, never Infinity. */
const sat = (x: number) => Math.min(F32_MAX, Math.max(-F32_MAX, x));

export class ReferenceQLearner {
  readonly actions: number;
  readonly alpha: number;
  readonly gamma: number;
  readonly initial: number;
  readonly rows = new Map<number, Float32Array>();
  readonly visitRows = new Map<number, Uint32Array>();

  constructor(options: ReferenceOptions) {
    this.actions = options.actions;
    this.alpha = f(options.alpha ?? 0.1);
    this.gamma = f(options.gamma ?? 0.95);
    this.initial = f(options.initial ?? 0);
  }

  get(s: number, a: number): number {
    const row = this.rows.get(s);
    return row === undefined ? this.initial : row[a];
  }

  visits(s: number, a: number): number {
    return this.visitRows.get(s)?.[a] ?? 0;
  }

  values(s: number): Float32Array {
    return this.rows.get(s) ?? new Float32Array(this.actions).fill(this.initial);
  }

  /** The row of s, created all-initial when missing. */
  private row(s: number): Float32Array {
    let row = this.rows.get(s);
    if (row === undefined) {
      row = new Float32Array(this.actions).fill(this.initial);
      this.rows.set(s, row);
      this.visitRows.set(s, new Uint32Array(this.actions));
    }
    return row;
  }

  maxOf(s: number): number {
    const row = this.rows.get(s);
    if (row === undefined) return this.initial;
    let m = -Infinity;
    for (let a = 0; a < this.actions; a++) m = Math.max(m, row[a]);
    return m;
  }

  bestAction(s: number): number {
    const row = this.rows.get(s);
    if (row === undefined) return 0;
    let best = 0;
    for (let a = 1; a < this.actions; a++) if (row[a] > row[best]) best = a;
    return best;
  }

  update(s: number, a: number, r: number, s2: number, done = false): number {
    const reward = f(r);
    const target = done ? reward : sat(f(reward + f(this.gamma * this.maxOf(s2))));
    const row = this.row(s);
    const q = row[a];
    row[a] = sat(f(q + f(this.alpha * sat(f(target - q)))));
    this.visitRows.get(s)![a]++;
    return row[a];
  }

  /** The engine's merge rule (assembly/qlearn/merge.ts), in float64. */
  merge(other: ReferenceQLearner, weight: number): void {
    if (weight === 0) return;
    for (const [s, vo] of other.visitRows) if (vo.some((v) => v > 0)) this.row(s);
    for (const [s, qs] of this.rows) {
      const vs = this.visitRows.get(s)!;
      const qo = other.rows.get(s);
      const vo = other.visitRows.get(s);
      for (let a = 0; a < this.actions; a++) {
        const ws = (1 - weight) * vs[a];
        const wo = vo === undefined ? 0 : weight * vo[a];
        if (ws + wo === 0) continue;
        qs[a] = (ws * qs[a] + wo * (qo === undefined ? 0 : qo[a])) / (ws + wo);
        vs[a] = Math.max(1, Math.floor(ws + wo + 0.5));
      }
    }
  }
}
