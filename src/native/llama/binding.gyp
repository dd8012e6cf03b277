# dynamo_llama: built by scripts/build-llama.mjs, which builds llama.cpp's static libraries into
# .cache/llama.cpp and passes that folder as llama_dir.
{
  "variables": {"llama_dir%": "../../../.cache/llama.cpp"},
  "targets": [
    {
      "target_name": "dynamo_llama",
      "sources": ["llama_addon.cc"],
      "include_dirs": ["<(llama_dir)/src/include", "<(llama_dir)/src/ggml/include", "../src"],
      "cflags_cc": ["-std=c++17", "-O2", "-pthread"],
      "cflags_cc!": ["-fno-rtti", "-fno-exceptions"],
      "defines": ["NAPI_VERSION=8"],
      # Order matters for static archives: each before the ones it calls.
      "libraries": [
        "<(llama_dir)/build/src/libllama.a",
        "<(llama_dir)/build/ggml/src/libggml.a",
        "<(llama_dir)/build/ggml/src/libggml-cpu.a",
        "<(llama_dir)/build/ggml/src/libggml-base.a",
        "-pthread", "-lm", "-ldl"
      ]
    }
  ]
}
