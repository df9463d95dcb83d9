// wasi:io/{error,poll,streams}: shared by every instance (they hold no per-instance state).
import type { HostModule } from '../context.ts';
import { IoError } from './error.ts';
import { Pollable, poll } from './poll.ts';
import { InputStream, OutputStream } from './streams.ts';

export const ioHost: HostModule = () => ({
  'wasi:io/error': { Error: IoError },
  'wasi:io/poll': { Pollable, poll },
  'wasi:io/streams': { InputStream, OutputStream },
});
