// cat for a WASI 0.2 command component (built for wasm32-wasip1, then `jco new --wasi-command`):
// copies stdin to stdout with read(2)/write(2) until EOF, then reports the byte count on stderr.
#include <stdio.h>
#include <unistd.h>

int main(void) {
  static char buf[65536];
  long long total = 0;
  for (;;) {
    ssize_t n = read(0, buf, sizeof buf);
    if (n < 0) { perror("cat: read"); return 3; }
    if (n == 0) break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(1, buf + off, (size_t)(n - off));
      if (w < 0) { perror("cat: write"); return 4; }
      off += w;
    }
    total += n;
  }
  fprintf(stderr, "cat: %lld bytes\n", total);
  return 0;
}
