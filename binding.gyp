{
  "targets": [
    {
      "target_name": "wasmgate_execve",
      "sources": ["native/execve.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
