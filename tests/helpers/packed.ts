/** The package as a user gets it: `npm pack` (of the dist/ that `npm test` builds first) installed into a fresh project, install scripts forbidden. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/** What a failing `node <args>` run in `cwd` printed on stderr; throws if it did not fail. */
export function failureOf(args: string[], cwd: string): string {
  try {
    run(process.execPath, args, cwd);
  } catch (error) {
    return String((error as { stderr?: string }).stderr);
  }
  throw new Error(`node ${args.join(' ')} did not fail`);
}

/**
 * The first js block of the "## Example" section of docs page `page` (a path under docs/),
 * which must be exactly the file `example` (a path under the root): the docs show what runs.
 */
export function docsExample(page: string, example: string): string {
  const text = readFileSync(join(ROOT, 'docs', page), 'utf8');
  const start = text.indexOf('## Example');
  if (start < 0) throw new Error(`docs/${page} has no "## Example" section`);
  const block = text.slice(start).match(/```js\n([\s\S]*?)```/)?.[1];
  if (block !== readFileSync(join(ROOT, example), 'utf8'))
    throw new Error(`the example of docs/${page} is not ${example} as it is`);
  return block;
}

/**
 * Type-checks `files` (name -> source) as a project in `dir` (module nodenext, strict, lib
 * es2023, Node's types, skipLibCheck); returns tsc's output, '' when clean.
 */
export function typecheckProject(dir: string, files: Record<string, string>): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        lib: ['es2023'],
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2022',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [join(ROOT, 'node_modules/@types')],
      },
      files: Object.keys(files),
    }),
  );
  try {
    run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir], dir);
    return '';
  } catch (error) {
    return String((error as { stdout?: string }).stdout);
  }
}

/** Bun and Deno as the packaged-example suites run a script: the devDependency binary's name and its arguments. */
export const OTHER_RUNTIMES: [string, (script: string) => string[]][] = [
  ['bun', (script) => ['run', script]],
  ['deno', (script) => ['run', '--no-prompt', '--allow-read', '--allow-write', '--allow-env', script]],
];

/**
 * The path of runtime `name` from the devDependencies, or undefined where it is missing (a
 * line saying `suite` skips it is printed); under CI=true a missing one throws.
 */
export function runtimeBin(name: string, suite: string): string | undefined {
  const bin = join(ROOT, 'node_modules/.bin', name);
  if (existsSync(bin)) return bin;
  if (process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0')
    throw new Error(`CI=true and ${bin} is missing (npm install)`);
  process.stdout.write(`${suite}: skipping ${name}: ${bin} missing\n`);
  return undefined;
}
