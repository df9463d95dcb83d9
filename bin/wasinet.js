#!/usr/bin/env node
// Plain JavaScript that any Node can parse, so that an old Node gets a clear message, not a syntax error.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(`wasinet: needs Node.js >= 24 (for WebAssembly JSPI); this is Node.js ${process.version}\n`);
  process.exit(1);
}
const { existsSync } = await import('node:fs');
const built = new URL('../dist/cli/main.js', import.meta.url);
// A checkout without a build runs the TypeScript sources directly (Node strips the types).
const entry = existsSync(built) ? built : new URL('../src/cli/main.ts', import.meta.url);
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
