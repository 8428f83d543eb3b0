// A progress bar on stderr for long builds; silent when stderr is not a terminal or is muted.
'use strict';

/** A progress bar labelled `label` over `total` steps: { tick(done), done() }. */
function progressBar(label, total, { enabled = process.stderr.isTTY } = {}) {
  const width = 30;
  const t0 = performance.now();
  let last = -1;
  const draw = (done) => {
    const filled = Math.round((done / total) * width);
    if (filled === last && done < total) return;
    last = filled;
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${secs}s`);
  };
  return {
    tick: (done) => enabled && draw(done),
    done: () => enabled && (draw(total), process.stderr.write('\n')),
  };
}

module.exports = { progressBar };
