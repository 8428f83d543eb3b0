/** Crash tests: run a Node child and SIGKILL it at a chosen moment. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/**
 * Runs `node <args>` from the repository root and SIGKILLs it `delayMs` after its stdout starts
 * with 'ready\n'; resolves to everything it printed. Rejects if it exits by itself.
 */
export function runAndKill(args: string[], delayMs: number): Promise<{ out: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (timer === undefined && out.startsWith('ready\n')) timer = setTimeout(() => proc.kill('SIGKILL'), delayMs);
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
