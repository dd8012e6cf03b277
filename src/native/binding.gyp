{
  "targets": [
    {
      "target_name": "dynamo_native",
      "sources": ["src/addon.cc", "src/prefix_index.cc"],
      "cflags_cc": ["-std=c++17", "-O3", "-fno-exceptions"],
      "cflags_cc!": ["-fno-rtti"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
