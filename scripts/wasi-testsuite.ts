// Runs the official WASI test suite (https://github.com/WebAssembly/wasi-testsuite) against the
// wasinet CLI: `node scripts/wasi-testsuite.ts [dir...]`.
//
// Each dir holds prebuilt test modules (*.wasm) with optional *.json specs; by default the p1 suites
// of a local checkout at $WASI_TESTSUITE (default /work/wasi-testsuite) are run. Each test runs as
// `node bin/wasinet.js run [--env K=V]... [--dir ROOT::/] test.wasm args...`; its exit code and,
// where the spec names them, stdout/stderr are checked. Prints one line per test and a summary;
// exits 1 if any test failed.
//
// Spec formats (see the suite's doc/specification.md): the legacy one ({args, env, root|dirs,
// exit_code, stdout, stderr}) and the operation-based one ({operations: [{type: run|wait|read,...}]});
// tests needing connect/send/recv operations are reported as failures (none of the p1 tests do).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(REPO, 'bin', 'wasinet.js');
const SUITE = process.env.WASI_TESTSUITE ?? '/work/wasi-testsuite';
const DEFAULT_DIRS = ['rust', 'c', 'assemblyscript'].map((l) => path.join(SUITE, 'tests', l, 'testsuite', 'wasm32-wasip1'));
const TIMEOUT_MS = Number(process.env.WASI_TESTSUITE_TIMEOUT_MS ?? 60_000);

interface Expectation {
  args: string[];
  env: Record<string, string>;
  dirs: { host: string; guest: string }[];
  exitCode: number;
  stdout?: string;
  stderr?: string;
  unsupported?: string;
}

type Json = Record<string, unknown>;

function parseSpec(testDir: string, spec: Json): Expectation {
  const out: Expectation = { args: [], env: {}, dirs: [], exitCode: 0 };
  const addRoot = (root: unknown) => {
    if (typeof root === 'string') out.dirs.push({ host: path.resolve(testDir, root), guest: '/' });
  };
  if (Array.isArray(spec.operations)) {
    for (const op of spec.operations as Json[]) {
      switch (op.type) {
        case 'run':
          out.args = (op.args as string[] | undefined) ?? [];
          out.env = (op.env as Record<string, string> | undefined) ?? {};
          addRoot(op.root);
          break;
        case 'wait':
          out.exitCode = (op.exit_code as number | undefined) ?? 0;
          break;
        case 'read': {
          const payload = (op.payload as string | undefined) ?? '';
          if ((op.id ?? 'stdout') === 'stderr') out.stderr = (out.stderr ?? '') + payload;
          else out.stdout = (out.stdout ?? '') + payload;
          break;
        }
        default:
          out.unsupported = `operation "${String(op.type)}"`;
      }
    }
    if (Array.isArray(spec.proposals) && spec.proposals.length > 0) {
      out.unsupported = `proposals ${JSON.stringify(spec.proposals)}`;
    }
    return out;
  }
  // Legacy format.
  out.args = (spec.args as string[] | undefined) ?? [];
  out.env = (spec.env as Record<string, string> | undefined) ?? {};
  out.exitCode = (spec.exit_code as number | undefined) ?? 0;
  addRoot(spec.root);
  // Older suites listed directories preopened under their own name.
  for (const d of (spec.dirs as string[] | undefined) ?? []) out.dirs.push({ host: path.resolve(testDir, d), guest: d });
  if (typeof spec.stdout === 'string') out.stdout = spec.stdout;
  if (typeof spec.stderr === 'string') out.stderr = spec.stderr;
  return out;
}

/** Removes test artifacts (`*.cleanup`, files or directories) anywhere under `dir`. */
function removeCleanup(dir: string): void {
  for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, ent.name);
    if (ent.name.endsWith('.cleanup')) fs.rmSync(p, { recursive: true, force: true });
    else if (ent.isDirectory()) removeCleanup(p);
  }
}

interface Outcome {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

function runCli(argv: string[], cwd: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...argv], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code, signal, timedOut,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

async function runTest(wasm: string): Promise<string | null> {
  const testDir = path.dirname(wasm);
  const specFile = wasm.replace(/\.wasm$/, '.json');
  const spec = fs.existsSync(specFile) ? (JSON.parse(fs.readFileSync(specFile, 'utf8')) as Json) : {};
  const exp = parseSpec(testDir, spec);
  if (exp.unsupported) return `unsupported: ${exp.unsupported}`;
  removeCleanup(testDir);
  const argv = ['run'];
  for (const [k, v] of Object.entries(exp.env)) argv.push('--env', `${k}=${v}`);
  for (const d of exp.dirs) argv.push('--dir', `${d.host}::${d.guest}`);
  argv.push(wasm, ...exp.args);
  const r = await runCli(argv, testDir);
  const problems: string[] = [];
  if (r.timedOut) problems.push(`timed out after ${TIMEOUT_MS} ms`);
  else if (r.code !== exp.exitCode) problems.push(`exit ${r.code ?? r.signal}, expected ${exp.exitCode}`);
  if (exp.stdout !== undefined && r.stdout !== exp.stdout) {
    problems.push(`stdout ${JSON.stringify(r.stdout.slice(0, 200))}, expected ${JSON.stringify(exp.stdout)}`);
  }
  if (exp.stderr !== undefined && r.stderr !== exp.stderr) {
    problems.push(`stderr ${JSON.stringify(r.stderr.slice(0, 200))}, expected ${JSON.stringify(exp.stderr)}`);
  }
  if (problems.length === 0) return null;
  const tail = r.stderr.trim().split('\n').slice(-8).map((l) => `      | ${l}`).join('\n');
  return problems.join('; ') + (tail.trim() ? `\n${tail}` : '');
}

async function main(): Promise<number> {
  const dirs = process.argv.length > 2 ? process.argv.slice(2).map((d) => path.resolve(d)) : DEFAULT_DIRS;
  if (!fs.existsSync(CLI)) {
    process.stderr.write(`wasi-testsuite: ${CLI} not found\n`);
    return 2;
  }
  let passed = 0;
  const failed: string[] = [];
  for (const dir of dirs) {
    if (!fs.existsSync(dir)) {
      process.stderr.write(`wasi-testsuite: no such directory: ${dir}\n`);
      return 2;
    }
    removeCleanup(dir);
    const tests = fs.readdirSync(dir).filter((f) => f.endsWith('.wasm')).sort();
    process.stdout.write(`# ${dir} (${tests.length} tests)\n`);
    for (const t of tests) {
      const name = `${path.basename(path.dirname(path.dirname(dir)))}/${t.replace(/\.wasm$/, '')}`;
      let problem: string | null;
      try {
        problem = await runTest(path.join(dir, t));
      } catch (e) {
        problem = `runner error: ${(e as Error).message}`;
      }
      if (problem === null) {
        passed++;
        process.stdout.write(`pass  ${name}\n`);
      } else {
        failed.push(name);
        process.stdout.write(`FAIL  ${name}: ${problem}\n`);
      }
    }
    removeCleanup(dir);
  }
  const total = passed + failed.length;
  process.stdout.write(`\n${passed}/${total} passed`);
  process.stdout.write(failed.length ? `; failed: ${failed.join(', ')}\n` : '\n');
  return failed.length ? 1 : 0;
}

process.exitCode = await main();
