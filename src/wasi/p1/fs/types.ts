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
  position: bigint;
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
}

export interface StdioFd {
  kind: 'stdio';
  rightsBase: bigint;
  rightsInheriting: bigint;
  fdflags: number;
  /** Host fd (0, 1, 2 or one supplied by an embedder). */
  hostFd: number;
}
