/** The package as a user gets it: `npm pack` (of the dist/ that `npm test` builds first) installed into a fresh project, install scripts forbidden. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The repository's root. */
export const ROOT = join(__dirname, '..', '..');

/** Runs `file` in `cwd` and returns its stdout; throws (with stderr) when it fails. */
export function run(file: string, args: string[], cwd: string): string {
  return execFileSync(file, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A packed tarball installed into a fresh project. */
export interface Packed {
  /** The temporary folder holding the tarball and the app. */
  work: string;
  /** The tarball's path. */
  tarball: string;
  /** The files the tarball holds. */
  files: string[];
  /** The project it is installed into (node_modules/elex-wasm). */
  app: string;
}

/** Packs the repository and installs the tarball into a new project under a temporary folder named `prefix`. */
export function packAndInstall(prefix: string): Packed {
  const work = mkdtempSync(join(tmpdir(), prefix));
  const packed = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT));
  const tarball = join(work, packed[0].filename);
  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  run('npm', ['install', tarball, '--strict-allow-scripts', '--no-audit', '--no-fund', '--prefer-offline'], app);
  return { work, tarball, files: packed[0].files.map((f: { path: string }) => f.path), app };
}

/** Removes what packAndInstall made (nothing when it did not run). */
export function removePacked(packed: Packed | undefined): void {
  if (packed) rmSync(packed.work, { recursive: true, force: true });
}
