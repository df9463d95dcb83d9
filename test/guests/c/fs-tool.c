// A small C program exercising the filesystem/stdio part of WASI p1 through wasi-libc.
// Usage: fs-tool DIR EXIT_CODE [ARGS...]   (DIR: a preopened guest directory)
//   prints its argv, $GREETING, what it read from stdin, the contents of DIR/in.txt and the
//   sorted listing of DIR; writes DIR/out/copy.txt (in.txt upper-cased) and appends to it;
//   tries to open DIR/../outside.txt (must fail); reports seek/tell/stat results; says "done" on
//   stderr and exits with EXIT_CODE.
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char path_buf[512];
static const char *in_dir(const char *dir, const char *name) {
  snprintf(path_buf, sizeof path_buf, "%s/%s", dir, name);
  return path_buf;
}

static int cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: fs-tool DIR EXIT_CODE [ARGS...]\n");
    return 2;
  }
  const char *dir = argv[1];
  printf("argc=%d\n", argc);
  for (int i = 2; i < argc; i++) printf("arg[%d]=%s\n", i, argv[i]);
  const char *greeting = getenv("GREETING");
  printf("GREETING=%s\n", greeting ? greeting : "(unset)");

  // stdin, to EOF
  char in[256];
  size_t n = fread(in, 1, sizeof in - 1, stdin);
  in[n] = 0;
  printf("stdin=%zu:%s\n", n, in);

  // read DIR/in.txt
  FILE *f = fopen(in_dir(dir, "in.txt"), "r");
  if (!f) { printf("open in.txt failed: %s\n", strerror(errno)); return 3; }
  char content[256];
  size_t m = fread(content, 1, sizeof content - 1, f);
  content[m] = 0;
  fclose(f);
  printf("in=%s\n", content);

  // write DIR/out/copy.txt, then append to it
  if (mkdir(in_dir(dir, "out"), 0755) != 0 && errno != EEXIST) { printf("mkdir failed: %s\n", strerror(errno)); return 4; }
  int fd = open(in_dir(dir, "out/copy.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) { printf("create failed: %s\n", strerror(errno)); return 5; }
  for (size_t i = 0; i < m; i++) content[i] = (char)toupper((unsigned char)content[i]);
  if (write(fd, content, m) != (ssize_t)m) return 6;
  printf("tell=%lld\n", (long long)lseek(fd, 0, SEEK_CUR));
  close(fd);
  fd = open(in_dir(dir, "out/copy.txt"), O_WRONLY | O_APPEND);
  write(fd, "!", 1);
  close(fd);
  struct stat st;
  if (stat(in_dir(dir, "out/copy.txt"), &st) != 0) return 7;
  printf("size=%lld\n", (long long)st.st_size);

  // list DIR
  DIR *d = opendir(dir);
  if (!d) { printf("opendir failed: %s\n", strerror(errno)); return 8; }
  char *names[64];
  int count = 0, dots = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && count < 64) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) { dots++; continue; }
    names[count++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, count, sizeof names[0], cmp);
  printf("ls=");
  for (int i = 0; i < count; i++) printf("%s%s", i ? "," : "", names[i]);
  printf(" dots=%d\n", dots);

  // escaping the preopen must fail
  FILE *bad = fopen(in_dir(dir, "../outside.txt"), "r");
  printf("escape=%s errno=%d\n", bad ? "OPENED" : "refused", bad ? 0 : errno);
  FILE *bad2 = fopen(in_dir(dir, "escape-link"), "r");
  printf("escape-link=%s errno=%d\n", bad2 ? "OPENED" : "refused", bad2 ? 0 : errno);

  fflush(stdout);
  fprintf(stderr, "done\n");
  return atoi(argv[2]);
}
