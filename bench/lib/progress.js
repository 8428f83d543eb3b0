// Progress on stderr, so what goes to stdout (tables, --json) stays clean:
// - reporter(suite): `[suite] <stage> (12.3 s)` lines, at most one a second (a stage that starts
//   sooner after the previous line is not printed), in a terminal or a log alike;
// - progressBar(label, total): a redrawn bar for long builds, only when stderr is a terminal.
'use strict';

const MIN_GAP_MS = 1000;

/**
 * Progress lines for `suite`: { step(text), tick(text, done, total) }. `step` announces a stage;
 * `tick` reports a count inside a long stage, at most every 5 s and only when no bar is drawn
 * (stderr is not a terminal). `quiet` prints nothing.
 */
function reporter(suite, { stream = process.stderr, quiet = false } = {}) {
  const t0 = performance.now();
  let last = -Infinity;
  const write = (text, gap) => {
    const now = performance.now();
    if (quiet || now - last < gap) return;
    last = now;
    stream.write(`[${suite}] ${text} (${((now - t0) / 1000).toFixed(1)} s)\n`);
  };
  return {
    step: (text) => write(text, MIN_GAP_MS),
    tick: (text, done, total) => {
      if (!stream.isTTY) write(`${text}: ${done}/${total}`, 5 * MIN_GAP_MS);
    },
  };
}

/** A reporter that prints nothing (the default of a suite's run() called outside the CLI). */
const silent = { step() {}, tick() {} };

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
    done: () => {
      if (!enabled) return;
      draw(total);
      process.stderr.write('\n');
    },
  };
}

module.exports = { reporter, silent, progressBar };
