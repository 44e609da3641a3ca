{
  "targets": [
    {
      "target_name": "phenomap_kernels",
      "sources": ["native/kernels.c"],
      "cflags": ["-O3", "-std=gnu11", "-ffp-contract=off", "-fno-fast-math", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-psabi"],
      "cflags!": ["-O2"],
      "libraries": ["-lpthread"],
      "xcode_settings": {
        "OTHER_CFLAGS": ["-O3", "-ffp-contract=off"]
      }
    }
    ,{
      "target_name": "phenomap_sqlite",
      "type": "loadable_module",
      "product_extension": "node",
      "sources": ["native/sqlite_cells.c", "native/sqlite_records.c"],
      "include_dirs": ["<!(node -p \"require('path').join(require('path').dirname(require.resolve('better-sqlite3/package.json')), 'deps', 'sqlite3')\")"],
      "cflags": ["-O2", "-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fvisibility=default"],
      "libraries": ["-lpthread"]
    }
  ]
}
