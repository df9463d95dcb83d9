// Builds every guest under test/guests into .cache/guests (run before the tests, so test timing is
// not dominated by clang). Usage: node test/support/build-guests.ts [--only SUBSTRING] [--quiet]
// Exits 1 if any guest fails to build (all failures are reported).
import fs from 'node:fs';
import path from 'node:path';
import { buildGuest, GUESTS_DIR, REPO_ROOT } from './guests.ts';
import { buildComponentGuest, isComponentGuest } from './components.ts';

function listGuests(dir: string): string[] {
  const out: string[] = [];
  for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, ent.name);
    if (ent.isDirectory()) out.push(...listGuests(p));
    else if (ent.name.endsWith('.c') || ent.name.endsWith('.wat')) out.push(p);
  }
  return out.sort();
}

const args = process.argv.slice(2);
const onlyIdx = args.indexOf('--only');
const only = onlyIdx >= 0 ? args[onlyIdx + 1] : undefined;
const quiet = args.includes('--quiet');

const guests = listGuests(GUESTS_DIR).filter((g) => !only || g.includes(only));
let failed = 0;
const t0 = performance.now();
// C builds are serialized inside buildC (memory); WAT builds are cheap.
for (const g of guests) {
  const rel = path.relative(REPO_ROOT, g);
  const t = performance.now();
  try {
    const out = isComponentGuest(g) ? await buildComponentGuest(g) : await buildGuest(g);
    if (!quiet) console.log(`ok   ${rel} -> ${path.relative(REPO_ROOT, out)} (${Math.round(performance.now() - t)} ms)`);
  } catch (e) {
    failed++;
    console.error(`FAIL ${rel}\n${(e as Error).message}`);
  }
}
console.log(`${guests.length - failed}/${guests.length} guests built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
process.exitCode = failed ? 1 : 0;
