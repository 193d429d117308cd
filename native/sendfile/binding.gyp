{
  "targets": [
    {
      "target_name": "berth_sendfile",
      "conditions": [
        ["OS=='linux'", { "sources": ["sendfile.c", "sha256.c", "file-pages.c", "free-now.c"] }, { "sources": ["unsupported.c"] }]
      ],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
