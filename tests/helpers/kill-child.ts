/** Crash tests: run a Node child and SIGKILL it at a chosen moment. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/**
 * Runs `node <args>` from the repository root and SIGKILLs it `delayMs` after its stdout starts
 * with 'ready\n' (with `after`: after it also printed `after.count` lines starting with
 * `after.prefix`, so a slow machine still sees that much work before the kill); resolves to
 * everything it printed. Rejects if it exits by itself.
 */
export function runAndKill(
  args: string[],
  delayMs: number,
  after?: { prefix: string; count: number },
): Promise<{ out: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    let seen = 0; // lines starting with after.prefix, among the complete lines before `scanned`
    let scanned = 0;
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      for (let nl = out.indexOf('\n', scanned); nl >= 0; nl = out.indexOf('\n', scanned)) {
        if (after !== undefined && out.startsWith(after.prefix, scanned)) seen++;
        scanned = nl + 1;
      }
      const ready = out.startsWith('ready\n') && (after === undefined || seen >= after.count);
      if (timer === undefined && ready) timer = setTimeout(() => proc.kill('SIGKILL'), delayMs);
    });
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('error', reject);
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`child exited by itself (code ${code}): ${stderr}`));
      else resolve({ out, stderr });
    });
  });
}
