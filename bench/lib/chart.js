// A recall-vs-QPS chart as a small standalone SVG (ann-benchmarks style: recall@10 on x,
// queries per second on a log-scale y axis, one line per series). No dependencies.
'use strict';

const W = 640;
const H = 400;
const PAD = { left: 70, right: 170, top: 40, bottom: 50 };
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#17becf', '#7f7f7f'];

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Log-scale ticks (1, 2, 5 x 10^k) between lo and hi. */
function logTicks(lo, hi) {
  const ticks = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo && v <= hi) ticks.push(v);
    }
  }
  return ticks;
}

/**
 * SVG text of a chart titled `title` with `series`: [{ name, points: [{ recall, qps, ef }] }].
 * x: recall@10 from the lowest measured (rounded down to 0.05) to 1; y: QPS, log scale.
 */
function recallQpsChart(title, series) {
  const points = series.flatMap((s) => s.points);
  const xLo = Math.max(0, Math.floor(Math.min(...points.map((p) => p.recall)) * 20) / 20);
  const yLo = Math.min(...points.map((p) => p.qps)) / 1.3;
  const yHi = Math.max(...points.map((p) => p.qps)) * 1.3;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const x = (r) => PAD.left + ((r - xLo) / (1 - xLo || 1)) * plotW;
  const y = (q) => PAD.top + plotH - ((Math.log(q) - Math.log(yLo)) / (Math.log(yHi) - Math.log(yLo))) * plotH;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${PAD.left}" y="22" font-size="14">${esc(title)}</text>`,
    `<rect x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#444"/>`,
  ];
  for (let r = xLo; r <= 1.0001; r += 0.05) {
    out.push(
      `<line x1="${x(r)}" y1="${PAD.top}" x2="${x(r)}" y2="${PAD.top + plotH}" stroke="#eee"/>`,
      `<text x="${x(r)}" y="${PAD.top + plotH + 16}" text-anchor="middle">${r.toFixed(2)}</text>`,
    );
  }
  for (const q of logTicks(yLo, yHi)) {
    out.push(
      `<line x1="${PAD.left}" y1="${y(q)}" x2="${PAD.left + plotW}" y2="${y(q)}" stroke="#eee"/>`,
      `<text x="${PAD.left - 6}" y="${y(q) + 4}" text-anchor="end">${q >= 1000 ? `${q / 1000}k` : q}</text>`,
    );
  }
  out.push(
    `<text x="${PAD.left + plotW / 2}" y="${H - 12}" text-anchor="middle">recall@10</text>`,
    `<text transform="translate(16 ${PAD.top + plotH / 2}) rotate(-90)" text-anchor="middle">queries per second (log)</text>`,
  );
  series.forEach((s, i) => {
    const c = COLOURS[i % COLOURS.length];
    const sorted = [...s.points].sort((a, b) => a.recall - b.recall);
    out.push(
      `<polyline fill="none" stroke="${c}" stroke-width="2" points="${sorted.map((p) => `${x(p.recall).toFixed(1)},${y(p.qps).toFixed(1)}`).join(' ')}"/>`,
    );
    for (const p of sorted)
      out.push(
        `<circle cx="${x(p.recall).toFixed(1)}" cy="${y(p.qps).toFixed(1)}" r="3" fill="${c}"><title>${esc(s.name)} ef ${p.ef}: recall ${p.recall.toFixed(4)}, ${Math.round(p.qps)} QPS</title></circle>`,
      );
    const ly = PAD.top + 10 + i * 18;
    out.push(
      `<line x1="${W - PAD.right + 12}" y1="${ly}" x2="${W - PAD.right + 32}" y2="${ly}" stroke="${c}" stroke-width="2"/>`,
      `<text x="${W - PAD.right + 38}" y="${ly + 4}">${esc(s.name)}</text>`,
    );
  });
  out.push('</svg>\n');
  return out.join('\n');
}

module.exports = { recallQpsChart };
