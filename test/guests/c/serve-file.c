// Serves a file from a preopened directory on a preopened listener: run with
// `--dir HOST::/data --listen 127.0.0.1:0`, so the directory is fd 3 and the listener fd 4.
// Usage: serve-file PATH [N]: sends PATH's contents to each client, then closes the connection;
// exits 0 after N connections (default: forever). Prints the fd layout it found first:
// "serve-file: preopen fd 3 = /data; listeners 1 from fd 4".
#include <sys/socket.h>
#include <wasi/api.h>
#include "sock-common.h"

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: serve-file PATH [N]\n");
    return 2;
  }
  const char *path = argv[1];
  long limit = arg_long(argc, argv, 2, 0);

  __wasi_prestat_t pre;
  __wasi_errno_t err = __wasi_fd_prestat_get(3, &pre);
  if (err != 0) {
    fprintf(stderr, "serve-file: fd_prestat_get(3): errno %d\n", err);
    return 1;
  }
  char name[256] = { 0 };
  size_t nlen = pre.u.dir.pr_name_len < sizeof name - 1 ? pre.u.dir.pr_name_len : sizeof name - 1;
  err = __wasi_fd_prestat_dir_name(3, (uint8_t *)name, nlen);
  if (err != 0) {
    fprintf(stderr, "serve-file: fd_prestat_dir_name(3): errno %d\n", err);
    return 1;
  }
  int lfd = first_listen_fd();
  say("serve-file: preopen fd 3 = %s; listeners %d from fd %d\n", name, listen_fd_count(), lfd);

  static char buf[65536];
  for (long served = 0; limit == 0 || served < limit; served++) {
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    int c = accept(lfd, (struct sockaddr *)&peer, &plen);
    if (c < 0) die("accept");
    FILE *f = fopen(path, "rb");
    if (!f) {
      const char *msg = "ERROR cannot open file\n";
      send_all(c, msg, strlen(msg), 0);
      fprintf(stderr, "serve-file: fopen %s: %s\n", path, strerror(errno));
    } else {
      size_t n;
      while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        if (send_all(c, buf, n, 0) < 0) break;
      fclose(f);
    }
    close(c);
  }
  say("serve-file: served %ld\n", limit);
  return 0;
}
