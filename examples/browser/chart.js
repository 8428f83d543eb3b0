// A small live line chart in SVG: a few series of values in 0..1 over the last `window`
// samples, a dashed threshold line and a legend. No DOM outside the given <svg>.
const NS = 'http://www.w3.org/2000/svg';

function el(name, attrs, parent) {
  const node = document.createElementNS(NS, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  parent.appendChild(node);
  return node;
}

export class LineChart {
  /** `series`: [{ name, color }]; `threshold`: a dashed line at that value (e.g. evictAt), with `thresholdLabel`. */
  constructor(svg, { series, threshold, thresholdLabel, window = 40, width = 900, height = 200 }) {
    this.width = width;
    this.height = height;
    this.window = window;
    this.pad = { left: 34, right: 8, top: 8, bottom: 22 };
    this.samples = series.map(() => []);
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    const plotBottom = height - this.pad.bottom;
    for (const v of [0, 0.25, 0.5, 0.75, 1]) {
      const y = this.y(v);
      el('line', { x1: this.pad.left, x2: width - this.pad.right, y1: y, y2: y, stroke: '#e4e7ec' }, svg);
      el('text', { x: this.pad.left - 4, y: y + 4, 'text-anchor': 'end', 'font-size': 10, fill: '#667' }, svg).textContent = `${v * 100}%`;
    }
    if (threshold !== undefined) {
      const y = this.y(threshold);
      el('line', { x1: this.pad.left, x2: width - this.pad.right, y1: y, y2: y, stroke: '#c0392b', 'stroke-dasharray': '4 3' }, svg);
      el('text', { x: width - this.pad.right - 2, y: y - 3, 'text-anchor': 'end', 'font-size': 10, fill: '#c0392b' }, svg).textContent = thresholdLabel ?? '';
    }
    this.lines = series.map((s) => el('polyline', { fill: 'none', stroke: s.color, 'stroke-width': 2, points: '' }, svg));
    series.forEach((s, i) => {
      const x = this.pad.left + i * 170;
      el('rect', { x, y: plotBottom + 8, width: 10, height: 10, fill: s.color }, svg);
      el('text', { x: x + 14, y: plotBottom + 17, 'font-size': 11, fill: '#333' }, svg).textContent = s.name;
    });
  }

  y(value) {
    const span = this.height - this.pad.top - this.pad.bottom;
    return this.pad.top + span * (1 - Math.min(1, Math.max(0, value)));
  }

  /** Appends one sample per series and redraws. */
  push(values) {
    const span = this.width - this.pad.left - this.pad.right;
    values.forEach((value, i) => {
      const data = this.samples[i];
      data.push(value);
      if (data.length > this.window) data.shift();
      const step = span / Math.max(1, this.window - 1);
      this.lines[i].setAttribute('points', data.map((v, j) => `${(this.pad.left + j * step).toFixed(1)},${this.y(v).toFixed(1)}`).join(' '));
    });
  }
}
