/*
 * execve(2) for `wasmgate run` started without the daemon's Node flags (bin/daemon-runtime.js): the
 * process becomes node with the flags in place, keeping its pid, its parent, its stdio and its
 * process group, so that whoever started it (a shell, a container runtime, a supervisor, a benchmark
 * harness reading /proc/PID) sees and signals the daemon itself, not a wrapper around it. Node 20
 * has no process.execve (it came in Node 22.15). Returns only on failure, by throwing; the caller
 * then falls back to starting the daemon as a child.
 */
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *string_of(napi_env env, napi_value value) {
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) return NULL;
  char *out = malloc(length + 1);
  if (out == NULL) return NULL;
  napi_get_value_string_utf8(env, value, out, length + 1, &length);
  return out;
}

/* A NULL-terminated array of C strings from a JavaScript array of strings; NULL on any failure. */
static char **strings_of(napi_env env, napi_value array) {
  uint32_t count = 0;
  if (napi_get_array_length(env, array, &count) != napi_ok) return NULL;
  char **out = calloc((size_t)count + 1, sizeof(char *));
  if (out == NULL) return NULL;
  for (uint32_t i = 0; i < count; i++) {
    napi_value item;
    if (napi_get_element(env, array, i, &item) != napi_ok || (out[i] = string_of(env, item)) == NULL) return NULL;
  }
  return out;
}

/* execve(path, argv, env): never returns when it works. */
static napi_value wg_execve(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value args[3];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  if (argc < 3) {
    napi_throw_type_error(env, "WG_ERR_EXECVE", "execve(path, argv, env)");
    return NULL;
  }
  char *path = string_of(env, args[0]);
  char **argv = strings_of(env, args[1]);
  char **envp = strings_of(env, args[2]);
  if (path == NULL || argv == NULL || envp == NULL) {
    napi_throw_type_error(env, "WG_ERR_EXECVE", "execve: path must be a string, argv and env arrays of strings");
    return NULL;
  }
  /* Node marks its stdio close-on-exec at start: without this the new daemon would write its log
     to /dev/null. */
  for (int fd = 0; fd <= 2; fd++) {
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0) fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
  }
  /* A blocked signal stays blocked across exec: the new daemon must receive SIGTERM. */
  sigset_t none;
  sigemptyset(&none);
  pthread_sigmask(SIG_SETMASK, &none, NULL);
  execve(path, argv, envp);
  napi_throw_error(env, "WG_ERR_EXECVE", strerror(errno));
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "execve", NAPI_AUTO_LENGTH, wg_execve, NULL, &fn);
  napi_set_named_property(env, exports, "execve", fn);
  return exports;
}
