// Builds the wasi:http test guests with componentize-js (cached by content hash in .cache/guests).
// Each guest is one JS module here plus the world it targets; the WASI WIT comes from the copy
// jco ships (0.2.12), re-versioned to 0.2.10, the version componentize-js 0.23 expects exports at.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cachedBuild, REPO_ROOT, toolchain } from '../../support/guests.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const WIT_SRC = path.join(REPO_ROOT, 'node_modules', '@bytecodealliance', 'jco', 'lib', 'wit', 'builtin', '0.2.12');
const PACKAGES = ['wasi-cli', 'wasi-clocks', 'wasi-filesystem', 'wasi-http', 'wasi-io', 'wasi-random', 'wasi-sockets'];
const VERSION = '0.2.10';

/** The componentize-js guests, by name: `<name>.js` built against `world-<world>.wit`. */
export const HTTP_GUESTS = {
  hello: 'handler',
  echo: 'handler',
  client: 'client',
  fetch: 'handler',
  'fetch-event': 'handler',
} as const;
export type HttpGuest = keyof typeof HTTP_GUESTS | 'hello-min';

function witPackages(): [string, string][] {
  return PACKAGES.map((p) => {
    const text = fs.readFileSync(path.join(WIT_SRC, p, 'package.wit'), 'utf8');
    const out = text.split('\n').filter((l) => !/^\s*\/\/\//.test(l)).join('\n').replaceAll('@0.2.12', `@${VERSION}`);
    return [p, out];
  });
}

let queue: Promise<unknown> = Promise.resolve();

/** `hello-min.wat`, a component in the component-model text format, parsed with jco (~0.1 s). */
async function buildWatComponent(name: string): Promise<string> {
  const text = fs.readFileSync(path.join(HERE, `${name}.wat`), 'utf8');
  return cachedBuild(['jco parse', toolchain('@bytecodealliance/jco'), text], async () => {
    const { parse } = await import('@bytecodealliance/jco');
    return parse(text);
  });
}

/** Path of the built component for `name` (componentize-js on a cache miss: 5-15 s, ~800 MB). */
export function buildHttpGuest(name: HttpGuest): Promise<string> {
  if (name === 'hello-min') return buildWatComponent(name);
  const source = fs.readFileSync(path.join(HERE, `${name}.js`), 'utf8');
  const world = fs.readFileSync(path.join(HERE, `world-${HTTP_GUESTS[name]}.wit`), 'utf8');
  const packages = witPackages();
  const parts = ['componentize-js', toolchain('@bytecodealliance/componentize-js'), name, source, world, ...packages.flat()];
  // one componentize at a time per process: each takes most of a GB
  const job = queue.then(() => cachedBuild(parts, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wasinet-http-guest-'));
    try {
      fs.writeFileSync(path.join(dir, `${name}.js`), source);
      fs.mkdirSync(path.join(dir, 'wit', 'deps'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'wit', 'world.wit'), world);
      for (const [p, text] of packages) {
        fs.mkdirSync(path.join(dir, 'wit', 'deps', p));
        fs.writeFileSync(path.join(dir, 'wit', 'deps', p, 'package.wit'), text);
      }
      // preview2-shim's filesystem has no preopens by default: componentize-js could not read its inputs
      const { _setPreopens } = (await import('@bytecodealliance/preview2-shim/filesystem')) as unknown as {
        _setPreopens(p: Record<string, string>): void;
      };
      _setPreopens({ '/': '/' });
      const { componentize } = await import('@bytecodealliance/componentize-js');
      const worldName = /\bworld\s+([\w-]+)/.exec(world)![1]!;
      const { component } = await componentize({ sourcePath: path.join(dir, `${name}.js`), witPath: path.join(dir, 'wit'), worldName });
      return component;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }));
  queue = job.catch(() => undefined);
  return job;
}

// `node test/guests/p2-http/build.ts [name...]`: build (or find) guests and print their paths.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const names = (process.argv.length > 2 ? process.argv.slice(2) : ['hello-min', ...Object.keys(HTTP_GUESTS)]) as HttpGuest[];
  for (const n of names) console.log(n, await buildHttpGuest(n));
}
