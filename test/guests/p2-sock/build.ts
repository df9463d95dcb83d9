// Builds the wasi:sockets test components (cached in .cache/guests by content hash):
//   C:  @yowasp/clang for wasm32-wasip1 (p2sock.h declares the 0.2 imports by hand), then jco's
//       componentEmbed with world.wit and componentNew with the preview 1 command adapter.
//   JS: componentize-qjs --sync against world-js.wit.
// The WIT packages of wasi:io/clocks/sockets 0.2.12 come from the ones jco ships.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildC, cachedBuild, REPO_ROOT, toolchain } from '../../support/guests.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const WIT_BUILTIN = path.join(REPO_ROOT, 'node_modules', '@bytecodealliance', 'jco', 'lib', 'wit', 'builtin', '0.2.12');
const DEPS = ['wasi-io', 'wasi-clocks', 'wasi-sockets', 'wasi-cli', 'wasi-random', 'wasi-filesystem'];

/** A WIT directory: `world` as the root package plus the 0.2.12 packages it uses. Rebuilt per process
 *  (it is tiny) in a private temp dir. */
function witDir(worldFile: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wasinet-p2sock-wit-'));
  fs.copyFileSync(path.join(HERE, worldFile), path.join(dir, 'world.wit'));
  for (const dep of DEPS) {
    fs.mkdirSync(path.join(dir, 'deps', dep), { recursive: true });
    fs.copyFileSync(path.join(WIT_BUILTIN, dep, 'package.wit'), path.join(dir, 'deps', dep, 'package.wit'));
  }
  return dir;
}

function depsText(): string[] {
  return DEPS.map((d) => fs.readFileSync(path.join(WIT_BUILTIN, d, 'package.wit'), 'utf8'));
}

let preopened = false;
/** jco's in-process wasm-tools reads the WIT through preview2-shim's filesystem, which needs a preopen. */
async function jcoApi(): Promise<typeof import('@bytecodealliance/jco')> {
  if (!preopened) {
    const shim = await import('@bytecodealliance/preview2-shim/filesystem');
    // the package's browser typings win for TypeScript; Node loads the nodejs build, which takes a map
    (shim._setPreopens as unknown as (preopens: Record<string, string>) => void)({ '/': '/' });
    preopened = true;
  }
  return import('@bytecodealliance/jco');
}

/** test/guests/p2-sock/NAME.c as a WASI 0.2 command component; returns its path. */
export async function buildSockC(name: string): Promise<string> {
  const core = await buildC(path.join(HERE, `${name}.c`));
  const coreBytes = fs.readFileSync(core);
  const world = fs.readFileSync(path.join(HERE, 'world.wit'), 'utf8');
  return cachedBuild(['p2-sock-c', toolchain('@bytecodealliance/jco'), world, ...depsText(), coreBytes], async () => {
    const jco = await jcoApi();
    const dir = witDir('world.wit');
    try {
      const embedded = await jco.componentEmbed({ binary: coreBytes, witPath: dir, world: 'sock-guest', features: { tag: 'all' } });
      const adapter = fs.readFileSync(jco.preview1AdapterCommandPath());
      return await jco.componentNew(embedded, [['wasi_snapshot_preview1', adapter]]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

/** The JS guests here (qjs-common.js is a module they share, not a guest). */
export const SOCK_JS_GUESTS = ['tcp-client', 'tcp-server', 'udp-client'] as const;

/** test/guests/p2-sock/NAME.js (which may import ./qjs-common.js), componentized with
 *  componentize-qjs --sync; returns its path. */
export async function buildSockJs(name: string): Promise<string> {
  const js = fs.readFileSync(path.join(HERE, `${name}.js`), 'utf8');
  const common = fs.readFileSync(path.join(HERE, 'qjs-common.js'), 'utf8');
  const world = fs.readFileSync(path.join(HERE, 'world-js.wit'), 'utf8');
  return cachedBuild(['p2-sock-qjs', toolchain('componentize-qjs'), world, ...depsText(), js, common], async () => {
    const { componentize } = await import('componentize-qjs');
    const dir = witDir('world-js.wit');
    try {
      const { component } = await componentize({ witPath: dir, world: 'sock-js', jsSource: js, jsPath: path.join(HERE, `${name}.js`), sync: true });
      return new Uint8Array(component);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
