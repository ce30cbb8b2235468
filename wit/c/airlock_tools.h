/*
 * Hand-written canonical-ABI glue for the airlock:plugin/tools export
 * (wit/airlock-plugin.wit), so C fixtures need no wit-bindgen toolchain.
 *
 *   call: func(name: string, input: string) -> result<string, tool-error>
 *
 * lowers to core export `airlock:plugin/tools@0.1.0#call`
 *   (name_ptr, name_len, input_ptr, input_len) -> ret_ptr
 * where ret_ptr points at { u8 tag; (align 4) ok: {ptr,len} | err: {code ptr,len, message ptr,len} }.
 *
 * A fixture defines:
 *   int tool(const char *name, size_t name_len, char *input, size_t input_len, struct airlock_out *out);
 * returning 0 with out->ok set, or non-zero with out->code/out->message set.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct airlock_str { char *ptr; size_t len; };
struct airlock_out { struct airlock_str ok, code, message; int ok_owned; };

int tool(const char *name, size_t name_len, char *input, size_t input_len, struct airlock_out *out);

static inline int airlock_name_is(const char *name, size_t len, const char *want) {
  return strlen(want) == len && memcmp(name, want, len) == 0;
}
static inline struct airlock_str airlock_lit(const char *s) {
  struct airlock_str r = { (char *)s, strlen(s) };
  return r;
}

__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *ptr, size_t old_size, size_t align, size_t new_size) {
  (void)old_size;
  if (new_size == 0) return (void *)align;
  void *r = realloc(ptr, new_size);
  if (!r) abort();
  return r;
}

static struct { uint8_t tag; struct airlock_str a, b; } airlock_ret;
static int airlock_ret_owned;

__attribute__((export_name("airlock:plugin/tools@0.1.0#call")))
void *airlock_call(char *name, size_t name_len, char *input, size_t input_len) {
  struct airlock_out out = { { 0, 0 }, { 0, 0 }, { 0, 0 }, 0 };
  int err = tool(name, name_len, input, input_len, &out);
  free(name);
  if (err) {
    airlock_ret.tag = 1;
    airlock_ret.a = out.code;
    airlock_ret.b = out.message;
    airlock_ret_owned = 0;
  } else {
    airlock_ret.tag = 0;
    airlock_ret.a = out.ok;
    airlock_ret_owned = out.ok_owned;
  }
  /* The echo path hands the input buffer back as the result (owned). */
  if (!(airlock_ret.tag == 0 && airlock_ret.a.ptr == input)) free(input);
  else airlock_ret_owned = 1;
  return &airlock_ret;
}

__attribute__((export_name("cabi_post_airlock:plugin/tools@0.1.0#call")))
void airlock_post_call(void *ret) {
  (void)ret;
  if (airlock_ret_owned) free(airlock_ret.a.ptr);
  airlock_ret_owned = 0;
}
