// Filesystem fd entries (owned by the fs part of the p1 binding).

export interface FileFd {
  kind: 'file';
  rightsBase: bigint;
  rightsInheriting: bigint;
  fdflags: number;
  /** Host file descriptor (node:fs). */
  hostFd: number;
  /** Host path, for diagnostics and for re-stat. */
  hostPath: string;
  /** The guest's file offset. Node has no lseek, so the offset lives here and reads/writes on
   *  regular files are positional (pread/pwrite). */
  position: bigint;
  /** WASI filetype of the open file (regular_file, character_device, ...): only regular files
   *  are seekable. */
  filetype: number;
}

/** A cached listing for fd_readdir, so that paging through a big directory with cookies does not
 *  re-read it for every page. Refreshed whenever the guest starts over at cookie 0. */
export interface DirListing {
  names: Buffer[];
  types: number[];
}

export interface DirFd {
  kind: 'dir';
  rightsBase: bigint;
  rightsInheriting: bigint;
  fdflags: number;
  /** Absolute host path of this directory. */
  hostPath: string;
  /** Absolute host path of the preopen this directory was opened under: nothing escapes it. */
  root: string;
  /** The guest-visible name, for preopens (fd_prestat_dir_name). */
  preopenName?: string;
  listing?: DirListing;
}

export interface StdioFd {
  kind: 'stdio';
  rightsBase: bigint;
  rightsInheriting: bigint;
  fdflags: number;
  /** Host fd (0, 1, 2 or one supplied by an embedder). */
  hostFd: number;
}
