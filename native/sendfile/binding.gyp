{
  "targets": [
    {
      "target_name": "berth_sendfile",
      "conditions": [
        ["OS=='linux'", { "sources": ["sendfile.c"] }, { "sources": ["unsupported.c"] }]
      ],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
