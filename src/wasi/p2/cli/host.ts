// wasi:cli: environment, exit, stdio and terminals.
import tty from 'node:tty';
import { ProcExit } from '../../p1/errors.ts';
import type { HostModule } from '../context.ts';
import { InputStream, OutputStream } from '../io/streams.ts';
import { stdinSource, stdioSink } from './stdio.ts';

/** wasi:cli/terminal-input.terminal-input: only says that stdin is a terminal. */
export class TerminalInput {
  [Symbol.dispose](): void {}
}

/** wasi:cli/terminal-output.terminal-output: only says that stdout/stderr is a terminal. */
export class TerminalOutput {
  [Symbol.dispose](): void {}
}

export const cliHost: HostModule = (ctx) => {
  const { args, env } = ctx.options;
  const [inFd, outFd, errFd] = ctx.options.stdio ?? [0, 1, 2];
  const environment = Object.entries(env).map(([k, v]) => [k, v] as [string, string]);
  const argv = [...args];
  // One source and two sinks per instance (shared with other instances for the process's own stdio).
  const input = stdinSource(inFd);
  const out = stdioSink(outFd);
  const err = stdioSink(errFd);
  // Output still queued when the guest is done goes out before run() returns.
  ctx.defer(async () => {
    await Promise.all([out.drained(), err.drained()]);
  });
  return {
    'wasi:cli/environment': {
      getEnvironment: () => environment,
      getArguments: () => argv,
      // The guest has no current directory: relative paths go through its preopens.
      initialCwd: () => undefined,
    },
    'wasi:cli/exit': {
      exit: (status: { tag: 'ok' | 'err' }): never => {
        throw new ProcExit(status.tag === 'ok' ? 0 : 1);
      },
      exitWithCode: (code: number): never => {
        throw new ProcExit(code & 0xff);
      },
    },
    'wasi:cli/stdin': { getStdin: () => new InputStream(input) },
    'wasi:cli/stdout': { getStdout: () => new OutputStream(out) },
    'wasi:cli/stderr': { getStderr: () => new OutputStream(err) },
    'wasi:cli/terminal-input': { TerminalInput },
    'wasi:cli/terminal-output': { TerminalOutput },
    'wasi:cli/terminal-stdin': { getTerminalStdin: () => (tty.isatty(inFd) ? new TerminalInput() : undefined) },
    'wasi:cli/terminal-stdout': { getTerminalStdout: () => (tty.isatty(outFd) ? new TerminalOutput() : undefined) },
    'wasi:cli/terminal-stderr': { getTerminalStderr: () => (tty.isatty(errFd) ? new TerminalOutput() : undefined) },
  };
};
