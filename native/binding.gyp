{
  "targets": [
    {
      "target_name": "trailproof_sha256",
      "sources": ["sha256.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    },
    {
      "target_name": "trailproof_tidy",
      "sources": ["tidy.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
