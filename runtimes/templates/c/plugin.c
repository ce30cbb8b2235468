/*
 * {{name}}: an Airlock plugin in C.
 *
 * Airlock calls tool() with a tool name from plugin.yaml and that tool's
 * input as JSON text, already checked against the tool's `input` schema.
 * Return 0 with out->ok set to the result (JSON text), or non-zero with
 * out->code and out->message set for a failure the caller should see (it
 * arrives as a `plugin-error` with your code). airlock_tools.h (shipped with
 * Airlock, found by the build) holds the WebAssembly glue.
 */
#include <stdio.h>
#include "airlock_tools.h"

/*
 * The text of the JSON string value of `key` in a flat object, escapes kept
 * as they are (so it can be copied into another JSON string). The schema
 * guarantees the shape; use a JSON library (e.g. cJSON) for anything richer.
 */
static int json_string(const char *s, size_t len, const char *key, const char **value, size_t *value_len) {
  char pattern[64];
  int n = snprintf(pattern, sizeof pattern, "\"%s\"", key);
  for (size_t i = 0; n > 0 && i + (size_t)n <= len; i++) {
    if (memcmp(s + i, pattern, (size_t)n) != 0) continue;
    size_t j = i + (size_t)n;
    while (j < len && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r' || s[j] == ':')) j++;
    if (j >= len || s[j] != '"') return -1;
    size_t start = ++j;
    while (j < len && s[j] != '"') j += s[j] == '\\' ? 2 : 1;
    if (j >= len) return -1;
    *value = s + start;
    *value_len = j - start;
    return 0;
  }
  return -1;
}

int tool(const char *name, size_t name_len, char *input, size_t input_len, struct airlock_out *out) {
  if (airlock_name_is(name, name_len, "hello")) {
    const char *who;
    size_t who_len;
    if (json_string(input, input_len, "name", &who, &who_len) != 0) {
      out->code = airlock_lit("invalid-input");
      out->message = airlock_lit("hello needs a string `name`");
      return 1;
    }
    size_t cap = who_len + 32;
    char *result = malloc(cap);
    if (result == NULL) abort();
    out->ok.len = (size_t)snprintf(result, cap, "{\"greeting\":\"Hello, %.*s!\"}", (int)who_len, who);
    out->ok.ptr = result;
    out->ok_owned = 1; /* Airlock frees it after copying the result out */
    return 0;
  }
  out->code = airlock_lit("not-found");
  out->message = airlock_lit("no such tool");
  return 1;
}
