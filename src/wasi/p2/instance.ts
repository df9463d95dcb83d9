// Running a WASI 0.2 command component: instantiate with our host, call wasi:cli/run.run.
import { ProcExit } from '../p1/errors.ts';
import type { LoadedComponent } from './component.ts';
import { P2Context, type P2Options } from './context.ts';
import { createHost } from './host.ts';

/** Which interfaces the component imports that this host does not implement. */
export function missingImports(component: LoadedComponent, host: Record<string, unknown>): string[] {
  return component.imports.filter((name) => !(name in host));
}

export async function runComponentCommand(component: LoadedComponent, options: P2Options): Promise<{ exitCode: number }> {
  const ctx = new P2Context(options);
  const host = createHost(ctx);
  const missing = missingImports(component, host);
  if (missing.length) throw new Error(`the component imports interfaces wasinet does not provide: ${missing.join(', ')}`);
  const exports = await component.instantiate(host);
  const key = Object.keys(exports).find((k) => /^wasi:cli\/run@0\.2\.\d+$/.test(k));
  const run = key ? (exports[key] as { run?: () => Promise<void> }).run : undefined;
  if (typeof run !== 'function') throw new Error('the component exports no wasi:cli/run@0.2.x (not a WASI 0.2 command)');
  try {
    await run();
    return { exitCode: 0 };
  } catch (e) {
    if (e instanceof ProcExit) return { exitCode: e.code };
    // run returned err(): exit status 1, as other hosts do
    if (e instanceof Error && e.name === 'ComponentError') return { exitCode: 1 };
    throw e;
  }
}
