// Test guest for the wasm engine: one tool per engine/capability rule.
// Input is a JSON string literal without escapes ("..."), or any JSON for echo.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <sys/stat.h>
#include <dirent.h>

extern char **environ;

static uint32_t ret[5];
static char *owned[2];

__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {
  (void)old_size; (void)align;
  if (new_size == 0) return (void *)align;
  void *p = realloc(old, new_size);
  if (!p) __builtin_trap();
  return p;
}

static void release(void) {
  for (int i = 0; i < 2; i++) { free(owned[i]); owned[i] = 0; }
}

static uint32_t *ok(char *s, size_t n) {
  owned[0] = s;
  ret[0] = 0; ret[1] = (uint32_t)(uintptr_t)s; ret[2] = (uint32_t)n;
  return ret;
}
static uint32_t *ok_str(const char *s) {
  size_t n = strlen(s); char *c = malloc(n + 1); memcpy(c, s, n + 1); return ok(c, n);
}
static uint32_t *err(const char *code, const char *msg) {
  size_t a = strlen(code), b = strlen(msg);
  char *c = malloc(a + 1), *m = malloc(b + 1);
  memcpy(c, code, a + 1); memcpy(m, msg, b + 1);
  owned[0] = c; owned[1] = m;
  ret[0] = 1; ret[1] = (uint32_t)(uintptr_t)c; ret[2] = a; ret[3] = (uint32_t)(uintptr_t)m; ret[4] = b;
  return ret;
}
// "abc" -> abc (no escapes); anything else as is.
static char *arg(const char *in, size_t n) {
  char *s = malloc(n + 1);
  if (n >= 2 && in[0] == '"' && in[n - 1] == '"') { memcpy(s, in + 1, n - 2); s[n - 2] = 0; }
  else { memcpy(s, in, n); s[n] = 0; }
  return s;
}
static uint32_t *errno_result(const char *what) {
  char buf[256]; snprintf(buf, sizeof buf, "\"%s: errno %d %s\"", what, errno, strerror(errno));
  return ok_str(buf);
}

static int counter;
static volatile int sink;
static void *volatile keep;

__attribute__((export_name("airlock:plugin/tools@0.1.0#call")))
uint32_t *call(char *name, size_t name_len, char *input, size_t input_len) {
  release();
  char *tool = arg(name, name_len);
  char *a = arg(input, input_len);
  uint32_t *r;
  if (!strcmp(tool, "echo")) {
    char *o = malloc(input_len + 1); memcpy(o, input, input_len); r = ok(o, input_len);
  } else if (!strcmp(tool, "count")) {
    char buf[32]; snprintf(buf, sizeof buf, "%d", ++counter); r = ok_str(buf);
  } else if (!strcmp(tool, "fail")) {
    r = err("bad-thing", a);
  } else if (!strcmp(tool, "trap")) {
    __builtin_trap();
  } else if (!strcmp(tool, "loop")) {
    for (;;) sink++;
  } else if (!strcmp(tool, "bomb")) {
    // Grow until the allocator fails, then trap (as an out-of-memory abort would).
    // Each block is chained into a volatile list so the compiler cannot drop the allocation.
    for (;;) { char **p = malloc(1 << 20); if (!p) __builtin_trap(); *p = (char *)keep; keep = p; }
  } else if (!strcmp(tool, "big")) {
    size_t n = (size_t)atol(a); char *o = malloc(n + 2);
    o[0] = '"'; memset(o + 1, 'x', n); o[n + 1] = '"'; r = ok(o, n + 2);
  } else if (!strcmp(tool, "print")) {
    printf("%s\n", a); fflush(stdout); fprintf(stderr, "err:%s\n", a); r = ok_str("null");
  } else if (!strcmp(tool, "printn")) {
    size_t n = (size_t)atol(a); for (size_t i = 0; i < n; i++) putchar('y'); fflush(stdout); r = ok_str("null");
  } else if (!strcmp(tool, "env")) {
    size_t cap = 4096, len = 0; char *o = malloc(cap); o[len++] = '[';
    for (char **e = environ; e && *e; e++) {
      size_t l = strlen(*e); if (len + l + 8 > cap) { cap = 2 * (cap + l); o = realloc(o, cap); }
      if (len > 1) o[len++] = ',';
      o[len++] = '"'; memcpy(o + len, *e, l); len += l; o[len++] = '"';
    }
    o[len++] = ']'; r = ok(o, len);
  } else if (!strcmp(tool, "read")) {
    int fd = open(a, O_RDONLY);
    if (fd < 0) r = errno_result("open");
    else { char buf[1024]; ssize_t n = read(fd, buf + 1, sizeof buf - 3); close(fd);
      if (n < 0) r = errno_result("read"); else { buf[0] = '"'; buf[n + 1] = '"'; buf[n + 2] = 0; r = ok_str(buf); } }
  } else if (!strcmp(tool, "write")) {
    // "path" -> writes "data" into path, creating/truncating it.
    int fd = open(a, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) r = errno_result("open");
    else { ssize_t n = write(fd, "data", 4); close(fd); r = n == 4 ? ok_str("\"ok\"") : errno_result("write"); }
  } else if (!strcmp(tool, "append")) {
    int fd = open(a, O_WRONLY | O_APPEND);
    if (fd < 0) r = errno_result("open");
    else { ssize_t n = write(fd, "data", 4); close(fd); r = n == 4 ? ok_str("\"ok\"") : errno_result("write"); }
  } else if (!strcmp(tool, "mkdir")) {
    r = mkdir(a, 0755) ? errno_result("mkdir") : ok_str("\"ok\"");
  } else if (!strcmp(tool, "unlink")) {
    r = unlink(a) ? errno_result("unlink") : ok_str("\"ok\"");
  } else if (!strcmp(tool, "rmdir")) {
    r = rmdir(a) ? errno_result("rmdir") : ok_str("\"ok\"");
  } else if (!strcmp(tool, "rename")) {
    // "from|to"
    char *bar = strchr(a, '|'); *bar = 0;
    r = rename(a, bar + 1) ? errno_result("rename") : ok_str("\"ok\"");
  } else if (!strcmp(tool, "link")) {
    char *bar = strchr(a, '|'); *bar = 0;
    r = link(a, bar + 1) ? errno_result("link") : ok_str("\"ok\"");
  } else if (!strcmp(tool, "symlink")) {
    // "target|path"
    char *bar = strchr(a, '|'); *bar = 0;
    r = symlink(a, bar + 1) ? errno_result("symlink") : ok_str("\"ok\"");
  } else if (!strcmp(tool, "truncate")) {
    r = truncate(a, 0) ? errno_result("truncate") : ok_str("\"ok\"");
  } else if (!strcmp(tool, "ls")) {
    DIR *d = opendir(a);
    if (!d) r = errno_result("opendir");
    else { char buf[2048]; size_t len = 0; buf[len++] = '"'; struct dirent *e;
      while ((e = readdir(d)) && len < 1900) { size_t l = strlen(e->d_name); memcpy(buf + len, e->d_name, l); len += l; buf[len++] = ' '; }
      closedir(d); buf[len++] = '"'; buf[len] = 0; r = ok_str(buf); }
  } else {
    r = err("not-found", tool);
  }
  free(tool); free(a);
  return r;
}
