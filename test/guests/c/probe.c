// A small CLI probe for tests. Usage:
//   probe exit N            exit with status N
//   probe env NAME...       print "NAME=value" (or "NAME unset") for each name
//   probe args ARG...       print each argument on its own line as "[ARG]"
//   probe listeners         print "LISTEN_FDS=<n> LISTEN_FDS_FIRST_FD=<fd>" and, for every fd
//                           from 3 to 15, "fd N: <filetype>" for the open ones
#include <sys/stat.h>
#include <wasi/api.h>
#include "sock-common.h"

static const char *filetype_name(__wasi_filetype_t t) {
  switch (t) {
    case __WASI_FILETYPE_DIRECTORY: return "directory";
    case __WASI_FILETYPE_REGULAR_FILE: return "regular_file";
    case __WASI_FILETYPE_SOCKET_STREAM: return "socket_stream";
    case __WASI_FILETYPE_SOCKET_DGRAM: return "socket_dgram";
    case __WASI_FILETYPE_CHARACTER_DEVICE: return "character_device";
    default: return "other";
  }
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: probe exit N | env NAME... | args ARG... | listeners\n");
    return 2;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "exit") == 0) {
    fflush(stdout);
    return (int)arg_long(argc, argv, 2, 0);
  }
  if (strcmp(cmd, "env") == 0) {
    for (int i = 2; i < argc; i++) {
      const char *v = getenv(argv[i]);
      if (v) say("%s=%s\n", argv[i], v);
      else say("%s unset\n", argv[i]);
    }
    return 0;
  }
  if (strcmp(cmd, "args") == 0) {
    for (int i = 2; i < argc; i++) say("[%s]\n", argv[i]);
    return 0;
  }
  if (strcmp(cmd, "listeners") == 0) {
    const char *n = getenv("LISTEN_FDS"), *f = getenv("LISTEN_FDS_FIRST_FD");
    say("LISTEN_FDS=%s LISTEN_FDS_FIRST_FD=%s\n", n ? n : "unset", f ? f : "unset");
    for (int fd = 3; fd < 16; fd++) {
      __wasi_fdstat_t st;
      if (__wasi_fd_fdstat_get(fd, &st) == 0) say("fd %d: %s\n", fd, filetype_name(st.fs_filetype));
    }
    return 0;
  }
  fprintf(stderr, "probe: unknown command %s\n", cmd);
  return 2;
}
