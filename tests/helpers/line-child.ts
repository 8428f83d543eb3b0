/** Child processes of multi-process tests that answer in lines on stdout (`ready`, then words of their own). */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/** A running child: `ready` once it printed `ready`; `closed` once it exited and its output is read. */
export interface LineChild {
  proc: ChildProcessWithoutNullStreams;
  ready: Promise<void>;
  /** The signal that ended it (null: exit code 0); rejects with its stderr for another exit code. */
  closed: Promise<NodeJS.Signals | null>;
}

/**
 * Starts `node script ...args` in `cwd`, calling `onLine` with the words of each line it prints
 * after `ready`. A child failing before `ready` resolves `ready` too (its `closed` rejects), so a
 * run waiting for it does not hang.
 */
export function spawnLineChild(
  name: string,
  script: string,
  args: string[],
  cwd: string,
  onLine: (words: string[]) => void,
): LineChild {
  const proc = spawn(process.execPath, [script, ...args], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let buffer = '';
  let stderr = '';
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  proc.stdout.on('data', (d: Buffer) => {
    buffer += d.toString();
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const words = buffer.slice(0, nl).split(' ');
      buffer = buffer.slice(nl + 1);
      if (words[0] === 'ready') markReady();
      else onLine(words);
    }
  });
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  proc.stdin.on('error', () => undefined); // a killed child's stdin
  const closed = new Promise<NodeJS.Signals | null>((resolve, reject) =>
    proc.on('close', (code, signal) => {
      if (signal !== null) resolve(signal);
      else if (code === 0) resolve(null);
      else reject(new Error(`${name} exited with ${code}: ${stderr}`));
    }),
  );
  closed.catch(() => markReady());
  return { proc, ready, closed };
}
