// Builds test guests (C via npm @yowasp/clang, WAT via npm wabt) into a content-addressed cache:
// .cache/guests/<sha256 of source + flags + toolchain version>.wasm. Concurrent test processes may
// build the same guest at once; each writes a temp file and renames it into place, so readers only
// ever see complete modules.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const GUESTS_DIR = path.join(REPO_ROOT, 'test', 'guests');
export const CACHE_DIR = path.join(REPO_ROOT, '.cache', 'guests');

function packageVersion(name: string): string {
  // Both packages restrict `exports`, so locate package.json through node_modules directly.
  const file = path.join(REPO_ROOT, 'node_modules', ...name.split('/'), 'package.json');
  try {
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Flags every C guest is built with (before the caller's extra flags). */
export const C_FLAGS: readonly string[] = ['--target=wasm32-wasip1', '-O2', '-Wall', '-Werror=implicit-function-declaration'];

export interface BuildCOptions {
  extraFlags?: readonly string[];
}

function sha256(parts: readonly (string | Uint8Array)[]): string {
  const h = createHash('sha256');
  for (const p of parts) {
    h.update(typeof p === 'string' ? `${p.length}:` : `${p.byteLength}b:`);
    h.update(p);
  }
  return h.digest('hex');
}

/** Local headers next to a C source: all are handed to clang (and hashed), so a guest may
 *  `#include "common.h"`. */
function localHeaders(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of fs.readdirSync(dir).sort()) {
    if (name.endsWith('.h')) out[name] = fs.readFileSync(path.join(dir, name), 'utf8');
  }
  return out;
}

function writeAtomically(dest: string, bytes: Uint8Array): void {
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const tmp = `${dest}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  fs.writeFileSync(tmp, bytes);
  fs.renameSync(tmp, dest);
}

// One clang at a time per process: each run takes ~500 MB and a core.
let clangQueue: Promise<unknown> = Promise.resolve();
// The package's .d.ts declares runLLVM but not runClang (which it exports, and documents).
type Tree = { [name: string]: Tree | string | Uint8Array };
type Output = (bytes: Uint8Array | null) => void;
type RunOptions = { stdout?: Output | null; stderr?: Output | null; fetchProgress?: () => void };
interface Clang {
  runClang(args: string[], files: Tree, options?: RunOptions): Promise<Tree>;
  runLLVM(args: string[] | null, files: Tree, options?: RunOptions): Promise<Tree>;
}
let clangReady: Promise<Clang> | undefined;

async function loadClang(): Promise<Clang> {
  clangReady ??= (async () => {
    const mod = (await import('@yowasp/clang')) as unknown as Clang;
    // The first run fetches the toolchain's resources and would print "fetched N%".
    await mod.runLLVM(null, {}, { fetchProgress() {} });
    return mod;
  })();
  return clangReady;
}

function serialize<T>(fn: () => Promise<T>): Promise<T> {
  const run = clangQueue.then(fn, fn);
  clangQueue = run.catch(() => undefined);
  return run;
}

/** Compiles a C guest for wasm32-wasip1; returns the path of the cached .wasm. A failed build throws
 *  an Error carrying clang's diagnostics. */
export async function buildC(sourcePath: string, options: BuildCOptions = {}): Promise<string> {
  const src = path.resolve(sourcePath);
  const text = fs.readFileSync(src, 'utf8');
  const headers = localHeaders(path.dirname(src));
  const flags = [...C_FLAGS, ...(options.extraFlags ?? [])];
  const key = sha256([
    'c', `@yowasp/clang@${packageVersion('@yowasp/clang')}`, JSON.stringify(flags), text,
    ...Object.entries(headers).flat(),
  ]);
  const dest = path.join(CACHE_DIR, `${key}.wasm`);
  if (fs.existsSync(dest)) return dest;

  return serialize(async () => {
    if (fs.existsSync(dest)) return dest;
    const clang = await loadClang();
    const name = path.basename(src);
    const diagnostics: Uint8Array[] = [];
    const collect = (b: Uint8Array | null) => { if (b) diagnostics.push(b); };
    let tree: Tree;
    try {
      tree = await clang.runClang(
        ['clang', ...flags, name, '-o', 'out.wasm'],
        { ...headers, [name]: text },
        { stdout: collect, stderr: collect },
      );
    } catch (e) {
      const msg = Buffer.concat(diagnostics).toString('utf8');
      throw new Error(`clang failed for ${path.relative(REPO_ROOT, src)}: ${(e as Error).message}\n${msg}`);
    }
    const wasm = tree['out.wasm'];
    if (!(wasm instanceof Uint8Array)) {
      throw new Error(`clang produced no output for ${src}\n${Buffer.concat(diagnostics).toString('utf8')}`);
    }
    writeAtomically(dest, wasm);
    return dest;
  });
}

let wabtReady: ReturnType<typeof import('wabt')> | undefined;

/** Assembles a WAT guest; returns the path of the cached .wasm. Throws with wabt's message. */
export async function buildWat(sourcePath: string): Promise<string> {
  const src = path.resolve(sourcePath);
  const text = fs.readFileSync(src, 'utf8');
  const key = sha256(['wat', `wabt@${packageVersion('wabt')}`, text]);
  const dest = path.join(CACHE_DIR, `${key}.wasm`);
  if (fs.existsSync(dest)) return dest;
  wabtReady ??= import('wabt').then((m) => m.default());
  const wabt = await wabtReady;
  let bytes: Uint8Array;
  try {
    const m = wabt.parseWat(path.basename(src), text);
    try {
      m.validate();
      bytes = m.toBinary({}).buffer;
    } finally {
      m.destroy();
    }
  } catch (e) {
    throw new Error(`wabt failed for ${path.relative(REPO_ROOT, src)}: ${(e as Error).message}`);
  }
  writeAtomically(dest, bytes);
  return dest;
}

/** Builds a guest by its path under test/guests (`c/echo-poll.c`, `wat/sock-errno.wat`) or an
 *  absolute path, picking the toolchain from the extension. */
export async function buildGuest(relOrAbs: string, options: BuildCOptions = {}): Promise<string> {
  const src = path.isAbsolute(relOrAbs) ? relOrAbs : path.join(GUESTS_DIR, relOrAbs);
  if (src.endsWith('.c')) return buildC(src, options);
  if (src.endsWith('.wat')) return buildWat(src);
  throw new Error(`don't know how to build ${src}`);
}

/** The shared cache for any other kind of guest (components built with jco, componentize-js,
 *  componentize-qjs, ...): `parts` (toolchain name and version, flags, every source text) decide the
 *  key; `build` runs only on a miss and returns the module or component bytes. */
export async function cachedBuild(parts: readonly (string | Uint8Array)[], build: () => Promise<Uint8Array>): Promise<string> {
  const dest = path.join(CACHE_DIR, `${sha256(parts)}.wasm`);
  if (fs.existsSync(dest)) return dest;
  writeAtomically(dest, await build());
  return dest;
}

/** `name@version` of an installed npm package, for cache keys. */
export function toolchain(name: string): string {
  return `${name}@${packageVersion(name)}`;
}
