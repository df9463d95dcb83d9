// wasi:filesystem: types (descriptor, directory-entry-stream, filesystem-error-code) and preopens.
import fs from 'node:fs';
import path from 'node:path';
import type { HostModule } from '../context.ts';
import type { IoError } from '../io/error.ts';
import { Descriptor, DirectoryEntryStream, descriptorFlags, newFsState } from './descriptor.ts';

export const filesystemHost: HostModule = (ctx) => {
  const state = newFsState();
  const preopens = ctx.options.preopens.map((p) => {
    const host = path.resolve(p.host);
    if (!fs.statSync(host, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`--dir ${p.host}: not a directory`);
    return { host, guest: p.guest };
  });
  // Whatever the guest left open is closed when the instance is done.
  ctx.defer(() => {
    for (const f of [...state.files]) f.close();
  });
  const preopenFlags = descriptorFlags({ read: true, mutateDirectory: true });
  return {
    'wasi:filesystem/types': {
      Descriptor,
      DirectoryEntryStream,
      filesystemErrorCode: (err: IoError): string | undefined => err.fsCode,
    },
    'wasi:filesystem/preopens': {
      getDirectories: (): [Descriptor, string][] =>
        preopens.map((p) => [Descriptor.directory(state, p.host, preopenFlags), p.guest]),
    },
  };
};
