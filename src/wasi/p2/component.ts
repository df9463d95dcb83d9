// Loading a component: jco's transpiler (in-process) turns it into an ES module plus core modules,
// instantiated with our host implementations. Transpiling takes from tens of ms to over a second,
// so the output is cached on disk, keyed by the component's hash and the transpiler's version.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { ASYNC_EXPORTS, ASYNC_IMPORTS } from './host.ts';
import type { InterfaceImpl } from './context.ts';
import { leanGlue } from './lean-glue.ts';
import { componentImportNames } from './binary.ts';

/** Bump when the transpile options or the way we load the output change. */
const LAYOUT = 6;
const JS_NAME = 'component.mjs';

export interface LoadOptions {
  /** Where transpiled components are kept (default: $WASINET_CACHE_DIR, else $XDG_CACHE_HOME/wasinet, else ~/.cache/wasinet). */
  cacheDir?: string;
  /** Told about cache misses (with the transpile time). */
  log?: (line: string) => void;
  /** `lean` (default) rewrites jco's host-call glue for speed (see tuneGlue); `as-generated` keeps
   *  jco's output untouched, for comparison and debugging. */
  glue?: 'lean' | 'as-generated';
}

export type ComponentExports = Record<string, unknown>;

export interface LoadedComponent {
  /** Interfaces the component imports, unversioned (`wasi:io/poll`). */
  readonly imports: readonly string[];
  /** The same with their versions (`wasi:io/poll@0.2.12`), when the binary could be read. */
  readonly importNames: readonly string[] | null;
  /** Its exports as `[name, 'function' | 'instance']`, versioned as in the component. */
  readonly exports: readonly [string, string][];
  /** A new instance wired to `host` (keyed by unversioned interface name). */
  instantiate(host: Record<string, InterfaceImpl>): Promise<ComponentExports>;
}

interface Manifest {
  imports: string[];
  exports: [string, string][];
  files: string[];
}

export function defaultCacheDir(): string {
  if (process.env.WASINET_CACHE_DIR) return process.env.WASINET_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'wasinet');
}

let transpilerVersion: string | undefined;
function getTranspilerVersion(): string {
  if (!transpilerVersion) {
    const require = createRequire(import.meta.url);
    const pkgPath = path.join(path.dirname(require.resolve('@bytecodealliance/jco-transpile')), '..', 'package.json');
    transpilerVersion = (JSON.parse(fs.readFileSync(pkgPath, 'utf8')) as { version: string }).version;
  }
  return transpilerVersion;
}

export async function loadComponent(bytes: Uint8Array, opts: LoadOptions = {}): Promise<LoadedComponent> {
  const key = createHash('sha256')
    .update(`wasinet-p2-${LAYOUT}\0jco-transpile@${getTranspilerVersion()}\0`)
    // which host functions may suspend is compiled into the output: a change needs a new transpile
    .update(`${JSON.stringify([ASYNC_IMPORTS, ASYNC_EXPORTS, opts.glue ?? 'lean'])}\0`)
    .update(bytes)
    .digest('hex');
  const dir = path.join(opts.cacheDir ?? defaultCacheDir(), 'components', key);
  let manifest = readManifest(dir);
  if (!manifest) {
    const t0 = performance.now();
    manifest = await transpileInto(bytes, dir, opts.glue ?? 'lean');
    opts.log?.(`transpile cache miss: ${key.slice(0, 12)} transpiled in ${Math.round(performance.now() - t0)} ms`);
  }
  const mod = (await import(pathToFileURL(path.join(dir, JS_NAME)).href)) as {
    instantiate(getCore: (name: string) => Promise<WebAssembly.Module>, imports: object): Promise<ComponentExports>;
  };
  // Core modules are compiled once per process and shared by every instance (serve keeps a pool).
  const compiled = new Map<string, Promise<WebAssembly.Module>>();
  const getCore = (name: string): Promise<WebAssembly.Module> => {
    let m = compiled.get(name);
    if (!m) {
      m = fs.promises.readFile(path.join(dir, name)).then((b) => WebAssembly.compile(b));
      compiled.set(name, m);
    }
    return m;
  };
  const { imports, exports } = manifest;
  return {
    imports,
    importNames: componentImportNames(bytes),
    exports,
    instantiate: (host) => mod.instantiate(getCore, host),
  };
}

/** The manifest of a complete cache entry, or null (then any partial entry is removed: entries are
 *  renamed into place whole, but files can be deleted from under us). */
function readManifest(dir: string): Manifest | null {
  let m: Manifest;
  try {
    m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
    if (m.files.includes(JS_NAME) && m.files.every((f) => fs.existsSync(path.join(dir, f)))) return m;
  } catch { /* missing or unreadable */ }
  fs.rmSync(dir, { recursive: true, force: true });
  return null;
}

async function transpileInto(bytes: Uint8Array, dir: string, glue: 'lean' | 'as-generated'): Promise<Manifest> {
  const { transpileBytes } = await import('@bytecodealliance/jco-transpile');
  const result = await transpileBytes(bytes, {
    name: 'component',
    instantiation: 'async',
    asyncMode: 'jspi',
    asyncImports: [...ASYNC_IMPORTS],
    asyncExports: [...ASYNC_EXPORTS],
    // an `err` from an export arrives as a ComponentError rather than a bare payload
    noComponentErrorWrapping: false,
    emitTypescriptDeclarations: false,
  });
  const files: string[] = [];
  const tmp = `${dir}.${process.pid}.${Date.now()}.tmp`;
  fs.mkdirSync(tmp, { recursive: true });
  for (const [name, data] of Object.entries(result.files)) {
    if (name.endsWith('.d.ts')) continue;
    const out = name === 'component.js' ? JS_NAME : name;
    fs.writeFileSync(path.join(tmp, out), name === 'component.js' && glue === 'lean' ? tuneGlue(data) : data);
    files.push(out);
  }
  const manifest: Manifest = { imports: result.imports, exports: result.exports, files };
  fs.writeFileSync(path.join(tmp, 'manifest.json'), JSON.stringify(manifest));
  // Another process may have finished the same entry meanwhile: either copy is good.
  try {
    fs.renameSync(tmp, dir);
  } catch {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return manifest;
}

/** Two changes to jco's glue (jco-transpile 0.15) that matter for long-running instances (serve):
 *  - `_debugLog(...)` runs a few times per host call and reads `process.env.JCO_DEBUG` each time (a
 *    getenv in Node): half the cost of a small host call. It is read once, when the module loads;
 *    JCO_DEBUG still works.
 *  - every handle created for a host object adds its number to a per-table Set that nothing ever
 *    reads (`_createdReps`): memory that grows with every request. The adds are dropped.
 *  Then lean-glue.ts takes the component-model-async task bookkeeping out of every host call (a
 *  0.2 component has no async lifts or lowers): ~6 µs → ~0.3 µs per synchronous call; and out of
 *  the exports, which call the core function directly when no import can suspend.
 *  Output that does not look as expected is left as it is. */
function tuneGlue(js: Uint8Array): Uint8Array {
  let text = Buffer.from(js).toString('utf8');
  const debugLog = /const _debugLog = \(\.\.\.args\) => \{\s*if \(!globalThis\?\.process\?\.env\?\.JCO_DEBUG\) \{ return; \}\s*console\.debug\(\.\.\.args\);\s*\};/;
  if (debugLog.test(text)) {
    text = text.replace(debugLog, 'const _debugLog = globalThis?.process?.env?.JCO_DEBUG ? (...args) => { console.debug(...args); } : () => {};');
  }
  const uses = text.match(/_createdReps\b[^;\n]*/g) ?? [];
  const onlyWrites = uses.every((u) => /^_createdReps\.add\(rep\)$/.test(u) || /^_createdReps = new Set\(\)$/.test(u));
  if (uses.length > 0 && onlyWrites) text = text.replaceAll('table._createdReps.add(rep);', '');
  text = leanGlue(text).code;
  return Buffer.from(text, 'utf8');
}
