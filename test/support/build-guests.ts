// Builds every guest under test/guests into .cache/guests (run before the tests, so test timing is
// not dominated by clang and componentize-js, and the test files never build big guests in parallel).
// Usage: node test/support/build-guests.ts [--only SUBSTRING] [--quiet]
// Exits 1 if any guest fails to build (all failures are reported).
import fs from 'node:fs';
import path from 'node:path';
import { buildGuest, GUESTS_DIR, REPO_ROOT } from './guests.ts';
import { buildComponentGuest, isComponentGuest } from './components.ts';
import { buildHttpGuest, HTTP_GUESTS, type HttpGuest } from '../guests/p2-http/build.ts';
import { buildSockC, buildSockJs, SOCK_JS_GUESTS } from '../guests/p2-sock/build.ts';

const SOCK_DIR = path.join(GUESTS_DIR, 'p2-sock');
const HTTP_DIR = path.join(GUESTS_DIR, 'p2-http');

/** The builder for one guest source, or undefined for a file that is not a guest of its own (a
 *  shared JS module). Directories with a build.ts of their own make components from C or JS. */
function builderFor(file: string): (() => Promise<string>) | undefined {
  const dir = path.dirname(file);
  const ext = path.extname(file);
  const name = path.basename(file, ext);
  if (dir === SOCK_DIR) {
    if (ext === '.c') return () => buildSockC(name);
    return (SOCK_JS_GUESTS as readonly string[]).includes(name) ? () => buildSockJs(name) : undefined;
  }
  if (dir === HTTP_DIR) return name in HTTP_GUESTS || name === 'hello-min' ? () => buildHttpGuest(name as HttpGuest) : undefined;
  if (ext === '.js') return undefined;
  return isComponentGuest(file) ? () => buildComponentGuest(file) : () => buildGuest(file);
}

function listGuests(dir: string): string[] {
  const out: string[] = [];
  for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, ent.name);
    if (ent.isDirectory()) out.push(...listGuests(p));
    else if (/\.(c|wat|js)$/.test(ent.name)) out.push(p);
  }
  return out.sort();
}

const args = process.argv.slice(2);
const onlyIdx = args.indexOf('--only');
const only = onlyIdx >= 0 ? args[onlyIdx + 1] : undefined;
const quiet = args.includes('--quiet');

const guests = listGuests(GUESTS_DIR)
  .filter((g) => !only || g.includes(only))
  .flatMap((g) => {
    const build = builderFor(g);
    return build ? [{ g, build }] : [];
  });
let failed = 0;
const t0 = performance.now();
// one at a time: clang and componentize-js each take most of a GB; WAT builds are cheap
for (const { g, build } of guests) {
  const rel = path.relative(REPO_ROOT, g);
  const t = performance.now();
  try {
    const out = await build();
    if (!quiet) console.log(`ok   ${rel} -> ${path.relative(REPO_ROOT, out)} (${Math.round(performance.now() - t)} ms)`);
  } catch (e) {
    failed++;
    console.error(`FAIL ${rel}\n${(e as Error).message}`);
  }
}
console.log(`${guests.length - failed}/${guests.length} guests built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
process.exitCode = failed ? 1 : 0;
