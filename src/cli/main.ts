// `wasinet run [flags] module.wasm [args...]`
import path from 'node:path';
import { helpText, intValue, parseArgs, UsageError, type FlagSpec, type ParsedFlag } from './args.ts';
import { formatAddress, inheritedListenFds, parseListenAddress } from './listen.ts';
import { policyFromFlags, POLICY_FLAGS } from './policy-flags.ts';
import { FileAuditLog } from '../policy/audit.ts';
import { PolicyError } from '../policy/rule.ts';
import { run } from '../run/run.ts';
import { serveCommand } from './serve.ts';
import type { SocketAddress } from '../net/types.ts';
import type { Preopen } from '../wasi/p1/context.ts';

const RUN_FLAGS: Record<string, FlagSpec> = {
  '--dir': { arity: 'required', value: 'HOST[::GUEST]', help: 'preopen a host directory (as GUEST, default the same path); repeatable' },
  '--env': { arity: 'required', value: 'NAME=VALUE', help: 'set an environment variable for the guest; repeatable' },
  '--listen': { arity: 'required', value: 'ADDR', help: 'preopen a listening TCP socket (127.0.0.1:8080, [::1]:0); repeatable' },
  '--inherit-listen-fds': { arity: 'none', help: 'hand the guest the listening sockets systemd passed (LISTEN_FDS)' },
  ...POLICY_FLAGS,
  '--audit-log': { arity: 'required', value: 'FILE', help: 'append one JSON line per policy decision to FILE' },
  '--max-sockets': { arity: 'required', value: 'N', help: 'open sockets per guest (default 1024)' },
  '--max-buffer': { arity: 'required', value: 'BYTES', help: 'bytes buffered per socket and direction (default 1048576)' },
  '--cache-dir': { arity: 'required', value: 'DIR', help: 'where transpiled components are cached (default ~/.cache/wasinet)' },
  '--verbose': { arity: 'none', help: 'print diagnostics (transpile cache misses) and the network accounting at exit' },
  '--help': { arity: 'none', help: 'show this help' },
};

const USAGE = `usage: wasinet run [flags] module.wasm [args...]
       wasinet serve [flags] app.wasm   (an HTTP server; see wasinet serve --help)

Runs a WASI command: a preview 1 core module or a WASI 0.2 component. Nothing on the network is reachable unless a flag grants it.

flags:
${helpText(RUN_FLAGS)}

RULE = host[:ports]; host: 1.2.3.4, [::1], 10.0.0.0/8, [fd00::/8], example.com, *.example.com, *;
ports: 443, 8000-8999, * (default *). RULES is a comma-separated list.`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'run') return await runCommand(rest);
    if (command === 'serve') return await serveCommand(rest);
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    }
    if (command === '--version') {
      process.stdout.write('wasinet 0.1.0\n');
      return 0;
    }
    throw new UsageError(`unknown command "${command}" (expected "run" or "serve")`);
  } catch (e) {
    if (e instanceof UsageError || e instanceof PolicyError) {
      process.stderr.write(`wasinet: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

interface RunConfig {
  preopens: Preopen[];
  env: Record<string, string>;
  listen: (SocketAddress | { fd: number })[];
  auditLog?: string;
  limits: { maxSockets?: number; maxBufferedBytes?: number };
  verbose: boolean;
  cacheDir?: string;
}

function configure(flags: ParsedFlag[]): RunConfig {
  const cfg: RunConfig = { preopens: [], env: {}, listen: [], limits: {}, verbose: false };
  for (const f of flags) {
    const v = f.value!;
    switch (f.name) {
      case '--dir': {
        const i = v.indexOf('::');
        const host = i >= 0 ? v.slice(0, i) : v;
        const guest = i >= 0 ? v.slice(i + 2) : v;
        if (!host || !guest) throw new UsageError(`invalid value "${v}" for --dir: expected HOST[::GUEST]`);
        cfg.preopens.push({ host: path.resolve(host), guest });
        break;
      }
      case '--env': {
        const i = v.indexOf('=');
        if (i <= 0) throw new UsageError(`invalid value "${v}" for --env: expected NAME=VALUE`);
        cfg.env[v.slice(0, i)] = v.slice(i + 1);
        break;
      }
      case '--listen': cfg.listen.push(parseListenAddress(v)); break;
      case '--inherit-listen-fds': cfg.listen.push(...inheritedListenFds().map((fd) => ({ fd }))); break;
      case '--audit-log': cfg.auditLog = v; break;
      case '--max-sockets': cfg.limits.maxSockets = intValue(f, 1, 1 << 20); break;
      case '--max-buffer': cfg.limits.maxBufferedBytes = intValue(f, 1024, 1 << 30); break;
      case '--verbose': cfg.verbose = true; break;
      case '--cache-dir': cfg.cacheDir = path.resolve(v); break;
    }
  }
  return cfg;
}

async function runCommand(argv: string[]): Promise<number> {
  const { flags, positional } = parseArgs(argv, RUN_FLAGS);
  if (flags.some((f) => f.name === '--help')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  // flags first: a flag that took the module as its value should be named, not the missing module
  const cfg = configure(flags);
  const [modulePath, ...guestArgs] = positional;
  if (!modulePath) throw new UsageError('missing module: wasinet run [flags] module.wasm [args...]');
  // A --listen address is the operator's grant: it implies the matching listen grant.
  const policy = policyFromFlags(
    flags,
    cfg.listen.filter((l): l is SocketAddress => 'address' in l),
    flags.some((f) => f.name === '--inherit-listen-fds'),
  );
  const audit = cfg.auditLog ? new FileAuditLog(cfg.auditLog) : undefined;
  try {
    const result = await run(modulePath, {
      args: [path.basename(modulePath), ...guestArgs],
      env: cfg.env,
      preopens: cfg.preopens,
      listen: cfg.listen,
      policy,
      audit,
      limits: cfg.limits,
      guest: path.basename(modulePath),
      cacheDir: cfg.cacheDir,
      log: cfg.verbose ? (line) => process.stderr.write(`wasinet: ${line}\n`) : undefined,
      onListening: (addr, fd) => process.stderr.write(`wasinet: listening on ${formatAddress(addr)} (fd ${fd})\n`),
    });
    if (cfg.verbose) process.stderr.write(`wasinet: ${JSON.stringify(result.accounting)}\n`);
    return result.exitCode;
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) {
      process.stderr.write(`wasinet: guest trapped: ${e.stack ?? e.message}\n`);
      return 134;
    }
    if (e instanceof WebAssembly.CompileError || e instanceof WebAssembly.LinkError) {
      process.stderr.write(`wasinet: ${modulePath}: ${e.message}\n`);
      return 1;
    }
    if (e instanceof Error && !(e instanceof UsageError)) {
      process.stderr.write(`wasinet: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    audit?.close();
  }
}
