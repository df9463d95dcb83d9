// `wasinet serve [flags] app.wasm`: serves HTTP with a wasi:http/incoming-handler component.
import fs from 'node:fs';
import path from 'node:path';
import { helpText, intValue, parseArgs, secondsValue, UsageError, type FlagSpec } from './args.ts';
import { formatAddress, parseListenAddress } from './listen.ts';
import { policyFromFlags, POLICY_FLAGS } from './policy-flags.ts';
import { FileAuditLog } from '../policy/audit.ts';
import { DEFAULT_REQUEST_TIMEOUT_MS, defaultMaxConcurrent, serve, type ServeOptions } from '../serve/server.ts';
import type { Preopen } from '../wasi/p1/context.ts';

export const SERVE_FLAGS: Record<string, FlagSpec> = {
  '--addr': { arity: 'required', value: 'ADDR', help: 'where to listen (default 127.0.0.1:8080; port 0: any free port)' },
  '--max-concurrent': { arity: 'required', value: 'N', help: `component instances handling requests at once (default ${defaultMaxConcurrent()} here); more requests queue` },
  '--tls-cert': { arity: 'required', value: 'FILE', help: 'serve HTTPS (HTTP/2 and HTTP/1.1) with this PEM certificate chain; needs --tls-key' },
  '--tls-key': { arity: 'required', value: 'FILE', help: 'the PEM private key of --tls-cert' },
  '--instance-per-request': { arity: 'none', help: 'a fresh component instance for every request' },
  '--request-timeout': { arity: 'required', value: 'SECONDS', help: `time a handler may take, body included (default ${DEFAULT_REQUEST_TIMEOUT_MS / 1000}; 0: no limit); past it the request gets a 504, or its connection is cut` },
  '--dir': { arity: 'required', value: 'HOST[::GUEST]', help: 'preopen a host directory (as GUEST, default the same path); repeatable' },
  '--env': { arity: 'required', value: 'NAME=VALUE', help: 'set an environment variable for the guest; repeatable' },
  ...POLICY_FLAGS,
  '--audit-log': { arity: 'required', value: 'FILE', help: 'append one JSON line per policy decision to FILE' },
  '--max-sockets': { arity: 'required', value: 'N', help: 'open sockets of the guest, all instances together (default 1024)' },
  '--max-buffer': { arity: 'required', value: 'BYTES', help: 'bytes buffered per socket and direction (default 1048576)' },
  '--cache-dir': { arity: 'required', value: 'DIR', help: 'where transpiled components are cached (default ~/.cache/wasinet)' },
  '--verbose': { arity: 'none', help: 'print diagnostics (cache misses, handler failures) and the network accounting at exit' },
  '--help': { arity: 'none', help: 'show this help' },
};

export const SERVE_USAGE = `usage: wasinet serve [flags] app.wasm

Serves HTTP with a WASI 0.2 component that exports wasi:http/incoming-handler. The listening address
is the operator's; what the guest does while handling requests is subject to the policy flags
(deny by default). Prints "Serving HTTP on http://ADDR/" (with --tls-cert: "Serving HTTPS on
https://ADDR/") on stderr once listening. SIGINT or SIGTERM
stop accepting, let requests in flight finish and exit 0.

flags:
${helpText(SERVE_FLAGS)}`;

export async function serveCommand(argv: string[]): Promise<number> {
  const { flags, positional } = parseArgs(argv, SERVE_FLAGS);
  if (flags.some((f) => f.name === '--help')) {
    process.stdout.write(`${SERVE_USAGE}\n`);
    return 0;
  }
  let address = parseListenAddress('127.0.0.1:8080', '--addr');
  const env: Record<string, string> = {};
  const preopens: Preopen[] = [];
  const limits: ServeOptions['limits'] = {};
  let auditLog: string | undefined;
  let maxConcurrent: number | undefined;
  let perRequest = false;
  let requestTimeoutMs: number | undefined;
  let verbose = false;
  let cacheDir: string | undefined;
  let tlsCert: string | undefined;
  let tlsKey: string | undefined;
  for (const f of flags) {
    const v = f.value!;
    switch (f.name) {
      case '--addr': address = parseListenAddress(v, '--addr'); break;
      case '--max-concurrent': maxConcurrent = intValue(f, 1, 4096); break;
      case '--instance-per-request': perRequest = true; break;
      case '--request-timeout': requestTimeoutMs = Math.round(secondsValue(f, 86_400) * 1000); break;
      case '--dir': {
        const i = v.indexOf('::');
        const host = i >= 0 ? v.slice(0, i) : v;
        const guest = i >= 0 ? v.slice(i + 2) : v;
        if (!host || !guest) throw new UsageError(`invalid value "${v}" for --dir: expected HOST[::GUEST]`);
        preopens.push({ host: path.resolve(host), guest });
        break;
      }
      case '--env': {
        const i = v.indexOf('=');
        if (i <= 0) throw new UsageError(`invalid value "${v}" for --env: expected NAME=VALUE`);
        env[v.slice(0, i)] = v.slice(i + 1);
        break;
      }
      case '--audit-log': auditLog = v; break;
      case '--max-sockets': limits.maxSockets = intValue(f, 1, 1 << 20); break;
      case '--max-buffer': limits.maxBufferedBytes = intValue(f, 1024, 1 << 30); break;
      case '--cache-dir': cacheDir = path.resolve(v); break;
      case '--tls-cert': tlsCert = v; break;
      case '--tls-key': tlsKey = v; break;
      case '--verbose': verbose = true; break;
    }
  }
  // after the flags: a flag that took the component as its value is named, not the missing component
  const [appPath, ...extra] = positional;
  if (!appPath) throw new UsageError('missing component: wasinet serve [flags] app.wasm');
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}" after the component`);
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    throw new UsageError(tlsCert === undefined ? '--tls-key needs --tls-cert' : '--tls-cert needs --tls-key');
  }
  // The listening socket is the operator's: it is not the guest's to be granted or denied.
  const policy = policyFromFlags(flags, [], false);
  const audit = auditLog ? new FileAuditLog(auditLog) : undefined;
  const say = (line: string): void => { process.stderr.write(`wasinet: ${line}\n`); };
  try {
    const server = await serve(appPath, {
      address,
      tls: tlsCert !== undefined ? { cert: readPem(tlsCert, '--tls-cert'), key: readPem(tlsKey!, '--tls-key') } : undefined,
      policy,
      audit,
      limits,
      env,
      preopens,
      guest: path.basename(appPath),
      maxConcurrent,
      instancePerRequest: perRequest,
      requestTimeoutMs,
      cacheDir,
      log: verbose ? say : undefined,
      warn: say,
    });
    process.stderr.write(`Serving ${server.scheme.toUpperCase()} on ${server.scheme}://${formatAddress(server.address)}/\n`);
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'));
      process.once('SIGTERM', () => resolve('SIGTERM'));
    });
    // a second signal while draining: stop at once
    const hurry = (): void => process.exit(130);
    process.once('SIGINT', hurry);
    process.once('SIGTERM', hurry);
    if (verbose) say(`${signal}: finishing ${server.inFlight} request(s) in flight`);
    await server.close();
    if (verbose) say(JSON.stringify(server.accounting));
    return 0;
  } catch (e) {
    if (e instanceof WebAssembly.CompileError || e instanceof WebAssembly.LinkError) {
      say(`${appPath}: ${e.message}`);
      return 1;
    }
    if (e instanceof Error && !(e instanceof UsageError)) {
      say(e.message);
      return 1;
    }
    throw e;
  } finally {
    audit?.close();
  }
}

/** A PEM file's contents; a file that cannot be read is an error naming the flag and the file. */
function readPem(file: string, flag: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new Error(`cannot read ${flag} file "${file}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
