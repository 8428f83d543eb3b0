/**
 * FileStore's lock under Deno with the permissions the README gives it (--allow-read,
 * --allow-write; no --allow-run): Deno refuses `process.kill(pid, 0)`, which the lock read as "the
 * owner is dead", so a second process took a live owner's lock (and removed its temp files). A
 * refused check now counts as running. Deno missing: skipped with the reason, a failure under CI.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const script = join('tests', 'package', 'runtimes', 'file-lock.mjs');
const local = join(root, 'node_modules', '.bin', 'deno');
const deno = existsSync(local) ? local : 'deno';
const inCi = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';
let missing: string | undefined;
try {
  execFileSync(deno, ['--version'], { stdio: 'ignore', timeout: 10000 });
} catch (error) {
  missing = `deno (${deno}): ${String((error as Error).message).split('\n')[0]}`;
}

const args = (dir: string, mode: string) => [
  'run',
  '--no-prompt',
  `--allow-read=${root},${dir}`,
  `--allow-write=${dir}`,
  script,
  mode,
  dir,
];
const run = (dir: string, mode: string) =>
  execFileSync(deno, args(dir, mode), { cwd: root, encoding: 'utf8', timeout: 60000 }).trim();

(missing && !inCi ? test.skip : test)(
  `a second Deno process is refused a live Deno owner's lock${missing ? ` (skipped: ${missing})` : ''}`,
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elex-deno-lock-'));
    try {
      const holder = spawn(deno, args(dir, 'hold'), { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise<number | null>((resolve) => holder.on('exit', resolve));
      await new Promise<void>((resolve, reject) => {
        let out = '';
        holder.stdout.on('data', (chunk) => {
          out += chunk;
          if (out.includes('LOCKED')) resolve();
        });
        holder.on('exit', () => reject(new Error(`the holder exited before locking: ${out}`)));
      });
      expect(run(dir, 'write')).toBe('ERR E_LOCKED'); // it took the lock before
      writeFileSync(join(dir, 'release'), '');
      expect(await exited).toBe(0);
      expect(run(dir, 'write')).toBe('WROTE'); // released by close()
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  120_000,
);
