{
  "targets": [
    {
      "target_name": "iclit_torch",
      "sources": ["torch_binding.cc", "allocator.cc", "ops.cc", "fused.cc", "linear.cc", "attention_cpu.cc", "elementwise_cpu.cc", "train_ops.cc", "runtime.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "<!@(node find-libtorch.cjs include)"],
      "defines": ["NAPI_CPP_EXCEPTIONS", "NAPI_VERSION=8", "<!@(node find-libtorch.cjs defines)"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-O2", "-fopenmp", "-ffp-contract=off", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-L<!(node find-libtorch.cjs lib)", "-Wl,-rpath,<!(node find-libtorch.cjs lib)", "<!@(node find-libtorch.cjs libs)"]
    }
  ]
}
