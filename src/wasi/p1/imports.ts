import { errno } from './abi.ts';
import type { ImportGroup, P1Context, ImportFn } from './context.ts';
import { toErrno } from './errors.ts';

/** Builds the `wasi_snapshot_preview1` import object from the binding's parts. Every function is
 *  wrapped so that anything it throws becomes an errno for the guest (ProcExit still unwinds).
 *  Only the suspending ones are wrapped in WebAssembly.Suspending, and they return synchronously
 *  when they can: JSPI only switches stacks when a Promise comes back. */
export function buildImports(ctx: P1Context, groups: readonly ImportGroup[]): Record<string, Function> {
  const out: Record<string, Function> = {};
  for (const g of groups) {
    const suspending = new Set(g.suspending ?? []);
    for (const [name, fn] of Object.entries(g.functions)) {
      if (name in out) throw new Error(`p1 import ${name} defined twice`);
      out[name] = suspending.has(name) ? (new WebAssembly.Suspending(guardAsync(fn)) as unknown as Function) : guard(fn);
    }
  }
  void ctx;
  return out;
}

function guard(fn: ImportFn): ImportFn {
  return (...args: unknown[]) => {
    try {
      return fn(...args) as number;
    } catch (e) {
      return toErrno(e);
    }
  };
}

function guardAsync(fn: ImportFn): ImportFn {
  return (...args: unknown[]) => {
    try {
      const r = fn(...args);
      return r instanceof Promise ? r.catch(toErrno) : (r as number);
    } catch (e) {
      return toErrno(e);
    }
  };
}

/** Fills in every p1 function the groups do not define with one returning ENOSYS, so a module
 *  importing something exotic still links. */
export function withNosys(imports: Record<string, Function>, wanted: readonly string[]): Record<string, Function> {
  for (const name of wanted) if (!(name in imports)) imports[name] = () => errno.nosys;
  return imports;
}
