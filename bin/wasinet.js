#!/usr/bin/env node
// Plain JavaScript that any Node can parse, so that an old Node gets a clear message, not a syntax error.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(`wasinet: needs Node.js >= 24 (for WebAssembly JSPI); this is Node.js ${process.version}\n`);
  process.exit(1);
}
const { existsSync } = await import('node:fs');
// In a checkout, run the TypeScript sources directly (Node strips the types), so a stale build can
// never stand in for them; an installed package (under node_modules, where Node won't strip types)
// runs its build.
const source = new URL('../src/cli/main.ts', import.meta.url);
const installed = import.meta.url.includes('/node_modules/');
const entry = !installed && existsSync(source) ? source : new URL('../dist/cli/main.js', import.meta.url);
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
