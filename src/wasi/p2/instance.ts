// Running a WASI 0.2 command component: instantiate with our host, call wasi:cli/run.run.
import { ProcExit } from '../p1/errors.ts';
import { splitVersion } from './binary.ts';
import type { LoadedComponent } from './component.ts';
import { P2Context, type P2Options } from './context.ts';
import { createHost } from './host.ts';

/** Which of the component's imports this host does not implement: interfaces it has no
 *  implementation of, and WASI interfaces of another version than 0.2.x (jco would hand them our
 *  0.2 implementation). Versioned names when the component's binary could be read. */
export function missingImports(component: LoadedComponent, host: Record<string, unknown>): string[] {
  const names = component.importNames ?? component.imports;
  return names.filter((full) => {
    const { name, version } = splitVersion(full);
    if (!(name in host)) return true;
    return name.startsWith('wasi:') && version !== '' && !version.startsWith('0.2.');
  });
}

/** Throws a readable error unless the host implements everything the component imports. */
export function checkImports(component: LoadedComponent, host: Record<string, unknown>): void {
  const missing = missingImports(component, host);
  if (missing.length === 0) return;
  const wasi03 = missing.some((m) => m.startsWith('wasi:') && !splitVersion(m).version.startsWith('0.2.') && splitVersion(m).version !== '');
  throw new Error(
    `the component imports ${missing.length === 1 ? 'an interface' : 'interfaces'} wasinet does not provide: ${missing.join(', ')}` +
      (wasi03 ? ' (wasinet implements WASI 0.2.x components)' : ''),
  );
}

/** jco's wrapper for an `err` returned by an export (its class is private to the generated code,
 *  and its `name` is plain 'Error'). */
export function isComponentError(e: unknown): e is Error & { payload: unknown } {
  return e instanceof Error && e.constructor.name === 'ComponentError' && Object.hasOwn(e, 'payload');
}

/** What escapes a running component is a trap: a wasm trap (a RuntimeError already), or an error
 *  jco's canonical-ABI glue or a host function threw (a bad discriminant, a host limit), which the
 *  component model treats as a trap too. Reported as a RuntimeError, with the original as cause. */
export function asTrap(e: unknown): unknown {
  if (e instanceof WebAssembly.RuntimeError || !(e instanceof Error)) return e;
  const trap = new WebAssembly.RuntimeError(`${e.name}: ${e.message}`);
  trap.cause = e;
  trap.stack = `RuntimeError: ${e.stack ?? e.message}`; // where it happened, not where we wrapped it
  return trap;
}

const RUN_02 = /^wasi:cli\/run@0\.2\.\d+$/;

/** The run function of a command's `wasi:cli/run@0.2.x` export; a clear error if there is none. */
export function findRun(component: LoadedComponent, exports: Record<string, unknown>): () => Promise<void> {
  const key = Object.keys(exports).find((k) => RUN_02.test(k));
  const run = key ? (exports[key] as { run?: () => Promise<void> }).run : undefined;
  if (typeof run === 'function') return run;
  const names = component.exports.map(([n]) => n);
  const other = names.find((n) => n.startsWith('wasi:cli/run@'));
  if (other) throw new Error(`the component exports ${other}; wasinet runs wasi:cli/run@0.2.x`);
  throw new Error(`the component exports no wasi:cli/run@0.2.x (not a WASI 0.2 command); it exports: ${names.join(', ') || 'nothing'}`);
}

export async function runComponentCommand(component: LoadedComponent, options: P2Options): Promise<{ exitCode: number }> {
  const ctx = new P2Context(options);
  try {
    const host = createHost(ctx);
    checkImports(component, host);
    const exports = await component.instantiate(host);
    const run = findRun(component, exports);
    try {
      await run();
      return { exitCode: 0 };
    } catch (e) {
      if (e instanceof ProcExit) return { exitCode: e.code };
      // run returned err(): exit status 1, as other hosts do
      if (isComponentError(e)) return { exitCode: 1 };
      throw asTrap(e);
    }
  } finally {
    await ctx.close();
  }
}
