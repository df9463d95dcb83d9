// Builds WASI 0.2 test components into the shared guest cache (.cache/guests, by content hash):
//   - a C program for wasm32-wasip1 turned into a command component with jco's bundled preview1
//     adapter (what `jco new m.wasm --wasi-command` does);
//   - a component written in the component model's text format, parsed by jco (`jco parse`).
import fs from 'node:fs';
import path from 'node:path';
import { buildC, cachedBuild, GUESTS_DIR, toolchain } from './guests.ts';

type Jco = typeof import('@bytecodealliance/jco');
let jcoReady: Promise<Jco> | undefined;
const jco = (): Promise<Jco> => (jcoReady ??= import('@bytecodealliance/jco'));

const resolve = (relOrAbs: string): string => (path.isAbsolute(relOrAbs) ? relOrAbs : path.join(GUESTS_DIR, relOrAbs));

/** Compiles a C guest (wasm32-wasip1) and wraps it into a WASI 0.2 command component; returns the
 *  cached component's path. `relOrAbs` is under test/guests (`c/probe.c`) or absolute. */
export async function buildCommandComponent(relOrAbs: string): Promise<string> {
  const core = new Uint8Array(fs.readFileSync(await buildC(resolve(relOrAbs))));
  const j = await jco();
  const adapter = new Uint8Array(fs.readFileSync(j.preview1AdapterCommandPath()));
  return cachedBuild(['jco-new-command', toolchain('@bytecodealliance/jco'), core, adapter], () =>
    j.componentNew(core, [['wasi_snapshot_preview1', adapter]]),
  );
}

/** Parses a component in the text format; returns the cached binary's path. Throws with jco's
 *  message (and the file name) when the text does not parse or validate. */
export async function buildComponentWat(relOrAbs: string): Promise<string> {
  const src = resolve(relOrAbs);
  const text = fs.readFileSync(src, 'utf8');
  return cachedBuild(['jco-parse', toolchain('@bytecodealliance/jco'), text], async () => {
    try {
      return await (await jco()).parse(text);
    } catch (e) {
      throw new Error(`jco parse failed for ${src}: ${(e as Error).message ?? String(e)}`);
    }
  });
}

/** A guest under test/guests/p2: a `.c` becomes a command component, a `.wat` is component text. */
export async function buildComponentGuest(relOrAbs: string): Promise<string> {
  const src = resolve(relOrAbs);
  if (src.endsWith('.c')) return buildCommandComponent(src);
  if (src.endsWith('.wat')) return buildComponentWat(src);
  throw new Error(`don't know how to build component ${src}`);
}

/** Whether a test guest source is a component: everything under test/guests/p2/, and any `.wat`
 *  written in the component text format (its first form is `(component`). */
export function isComponentGuest(absPath: string): boolean {
  if (path.relative(path.join(GUESTS_DIR, 'p2'), absPath).split(path.sep)[0] !== '..') return true;
  if (!absPath.endsWith('.wat')) return false;
  const text = fs.readFileSync(absPath, 'utf8').replace(/;;[^\n]*|\(;[\s\S]*?;\)/g, '');
  return /^\s*\(component\b/.test(text);
}
