{
  # The default CPU build (npm run build:native, npx resnode build-native, and
  # scripts/prebuild.mjs for the shipped prebuilds/). Each ISA's micro-kernels
  # live in their own static library with their own flags, chosen by file-name
  # suffix (the same rule as CMakeLists.txt):
  #   *__avx512f.cc : -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma (x64 only)
  #   *__avx512bf16.cc : -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512bf16 (x64 only)
  #   *__avx512vnni.cc : -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni (x64 only)
  #   *__avx2.cc    : -mavx2 -mfma (x64 only)
  #   *__neon.cc    : no flags: NEON is part of arm64's base ISA (arm64 only)
  #   anything else : no ISA flags, so the addon loads on any CPU of its
  #                   architecture and dispatches by CPUID at run time.
  # libstdc++ and libgcc are linked statically on Linux, so a prebuilt addon
  # needs only glibc. The macOS and Windows settings are untested (no such
  # machine here).
  "target_defaults": {
    "cflags": [ "-O3", "-fPIC", "-fvisibility=hidden" ],
    "cflags_cc": [ "-std=c++17", "-O3", "-fexceptions" ],
    "cflags_cc!": [ "-fno-exceptions", "-std=gnu++17", "-std=gnu++20" ],
    "defines": [ "NDEBUG" ],
    "xcode_settings": {
      "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
      "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
      "GCC_SYMBOLS_PRIVATE_EXTERN": "YES",
      "MACOSX_DEPLOYMENT_TARGET": "11.0",
      "OTHER_CFLAGS": [ "-O3" ]
    },
    "msvs_settings": {
      "VCCLCompilerTool": { "ExceptionHandling": 1, "AdditionalOptions": [ "/std:c++17", "/O2" ] }
    }
  },
  "targets": [
    {
      "target_name": "resnode",
      "sources": [
        "native/addon.cc",
        "native/napi/args.cc",
        "native/napi/conv.cc",
        "native/napi/eltwise.cc",
        "native/napi/gemm.cc",
        "native/napi/half.cc",
        "native/napi/info.cc",
        "native/napi/packed.cc",
        "native/napi/pool.cc",
        "native/napi/stats.cc",
        "native/napi/plan.cc",
        "native/napi/qconv.cc",
        "native/napi/qpool.cc",
        "native/napi/conv_nhwc.cc",
        "native/napi/steps.cc",
        "native/napi/backward.cc",
        "native/cpu/config.cc",
        "native/cpu/conv2d.cc",
        "native/cpu/conv_dconv.cc",
        "native/cpu/eltwise.cc",
        "native/cpu/eltwise/elementwise.cc",
        "native/cpu/eltwise/f16_vcvt__scalar.cc",
        "native/cpu/eltwise/f32_vbinary__scalar.cc",
        "native/cpu/eltwise/f32_vunary__scalar.cc",
        "native/cpu/eltwise/f32_qlinear_vadd__scalar.cc",
        "native/cpu/eltwise/qu8_qlinear_vadd__scalar.cc",
        "native/cpu/eltwise/f32_vquantize_dequantize__scalar.cc",
        "native/cpu/layout.cc",
        "native/cpu/fc.cc",
        "native/cpu/gemm_driver.cc",
        "native/cpu/im2col.cc",
        "native/cpu/isa.cc",
        "native/cpu/pack.cc",
        "native/cpu/pack_bf16.cc",
        "native/cpu/peak.cc",
        "native/cpu/qgemm/qu8s8_pack.cc",
        "native/cpu/qgemm/qu8s8_gemm_4x16c4__scalar.cc",
        "native/cpu/qgemm/qu8_conv2d_nhwc.cc",
        "native/cpu/qgemm/qu8_vquantize_nchw_nhwc__scalar.cc",
        "native/cpu/qgemm/qu8_vdequantize_nhwc_nchw__scalar.cc",
        "native/cpu/qpool/qu8_pool.cc",
        "native/cpu/qpool/qu8_maxpool__scalar.cc",
        "native/cpu/qpool/qu8_gavgpool_sum__scalar.cc",
        "native/cpu/winograd/winograd.cc",
        "native/cpu/pool.cc",
        "native/cpu/pool/f32_gavgpool_cw__scalar.cc",
        "native/cpu/pool/pool_nhwc.cc",
        "native/cpu/pool/f32_maxpool__scalar.cc",
        "native/cpu/pool/f32_avgpool__scalar.cc",
        "native/cpu/norm/f32_layernorm__scalar.cc",
        "native/cpu/quantize.cc",
        "native/cpu/dwconv/dwconv.cc",
        "native/cpu/scratch.cc",
        "native/cpu/runner.cc",
        "native/cpu/threadpool.cc",
        "native/cpu/work_split.cc",
        "native/cpu/backward/batch_norm_backward.cc",
        "native/cpu/backward/conv2d_backward.cc",
        "native/cpu/backward/eltwise_backward.cc",
        "native/cpu/backward/gemm_backward.cc",
        "native/cpu/gemm/f32_gemm_4x8__scalar.cc",
        "native/cpu/igemm/f32_conv2d_nhwc.cc",
        "native/cpu/igemm/f32_igemm_4x8__scalar.cc",
        "native/cpu/reorder/f32_reorder.cc",
        "native/cpu/reorder/f32_transpose__scalar.cc"
      ],
      "include_dirs": [ "<!(node -p \"require('node-addon-api').include_dir\")", "native" ],
      "defines": [ "NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS" ],
      "conditions": [
        [ "target_arch=='x64'", {
          "dependencies": [ "resnode_avx512f", "resnode_avx512bf16", "resnode_avx512vnni", "resnode_avx2" ]
        } ],
        [ "target_arch=='arm64'", {
          "sources": [ "native/cpu/gemm/f32_gemm_8x8__neon.cc", "native/cpu/peak__neon.cc" ]
        } ],
        [ "OS=='linux'", {
          # nodelete: the addon stays mapped when a worker_thread's environment unloads it.
          "ldflags": [ "-Wl,-z,nodelete", "-pthread", "-static-libstdc++", "-static-libgcc" ]
        } ],
        [ "OS=='win'", {
          "defines": [ "NOMINMAX", "_USE_MATH_DEFINES" ]
        } ]
      ]
    }
  ],
  "conditions": [
    [ "target_arch=='x64'", {
      "targets": [
        {
          "target_name": "resnode_avx512f",
          "type": "static_library",
          "sources": [
            "native/cpu/gemm/f32_gemm_14x32__avx512f.cc",
            "native/cpu/igemm/f32_igemm_14x32__avx512f.cc",
            "native/cpu/igemm/f32_igemm_7x32__avx512f.cc",
            "native/cpu/reorder/f32_transpose__avx512f.cc",
            "native/cpu/gemm/f32_gemm_8x32__avx512f.cc",
            "native/cpu/gemm/f32_gemm_1x32__avx512f.cc",
            "native/cpu/gemm/f32_gemm_14x16__avx512f.cc",
            "native/cpu/gemm/f32_gemm_8x16__avx512f.cc",
            "native/cpu/gemm/f32_gemm_14x1__avx512f.cc",
            "native/cpu/gemm/f32_gemm_8x1__avx512f.cc",
            "native/cpu/gemm/f32_dconv_14x32s1__avx512f.cc",
            "native/cpu/gemm/f32_dconv_14x32s2__avx512f.cc",
            "native/cpu/gemm/f32_dconv_14x32__avx512f.cc",
            "native/cpu/gemm/f32_dconv_7x64s1__avx512f.cc",
            "native/cpu/gemm/f32_dconv_7x64s2__avx512f.cc",
            "native/cpu/gemm/f32_dconv_7x64__avx512f.cc",
            "native/cpu/gemm/f32_dconv_2x7x32s1__avx512f.cc",
            "native/cpu/gemm/f32_dconv_2x7x32s2__avx512f.cc",
            "native/cpu/gemm/f32_dconv_2x7x32__avx512f.cc",
            "native/cpu/eltwise/f32_vbinary__avx512f.cc",
            "native/cpu/eltwise/f32_vunary__avx512f.cc",
            "native/cpu/eltwise/f32_qlinear_vadd__avx512f.cc",
            "native/cpu/eltwise/qu8_qlinear_vadd__avx512f.cc",
            "native/cpu/eltwise/f32_vquantize_dequantize__avx512f.cc",
            "native/cpu/dwconv/f32_dwconv_3x3s1__avx512f.cc",
            "native/cpu/dwconv/f32_dwconv_3x3s2__avx512f.cc",
            "native/cpu/dwconv/f32_dwconv_5x5s1__avx512f.cc",
            "native/cpu/dwconv/f32_dwconv_5x5s2__avx512f.cc",
            "native/cpu/dwconv/f32_dwconv_7x7s1__avx512f.cc",
            "native/cpu/dwconv/f32_dwconv_7x7s2__avx512f.cc",
            "native/cpu/dwconv/f32_vmulcaddc__avx512f.cc",
            "native/cpu/dwconv/f32_deinterleave2__avx512f.cc",
            "native/cpu/im2col__avx512f.cc",
            "native/cpu/pool__avx512f.cc",
            "native/cpu/pool/f32_gavgpool_cw__avx512f.cc",
            "native/cpu/pool/f32_maxpool__avx512f.cc",
            "native/cpu/pool/f32_avgpool__avx512f.cc",
            "native/cpu/norm/f32_layernorm__avx512f.cc",
            "native/cpu/qgemm/qu8_vquantize_nchw_nhwc__avx512f.cc",
            "native/cpu/qgemm/qu8_vdequantize_nhwc_nchw__avx512f.cc",
            "native/cpu/qpool/qu8_maxpool__avx512f.cc",
            "native/cpu/qpool/qu8_gavgpool_sum__avx512f.cc",
            "native/cpu/peak__avx512f.cc",
            "native/cpu/winograd/f32_winograd_4x4_3x3__avx512f.cc",
            "native/cpu/winograd/f32_winograd_2x2_3x3__avx512f.cc",
            "native/cpu/winograd/f32_winograd_gemm_14x32__avx512f.cc"
          ],
          "cflags": [ "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mfma" ]
        },
        {
          "target_name": "resnode_avx512bf16",
          "type": "static_library",
          "sources": [
            "native/cpu/gemm/bf16_gemm_14x32__avx512bf16.cc",
            "native/cpu/gemm/bf16_gemm_8x32__avx512bf16.cc",
            "native/cpu/gemm/bf16_gemm_14x16__avx512bf16.cc",
            "native/cpu/gemm/bf16_gemm_8x16__avx512bf16.cc",
            "native/cpu/bf16_pack__avx512bf16.cc",
            "native/cpu/peak__avx512bf16.cc"
          ],
          "cflags": [ "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mavx512bf16" ]
        },
        {
          "target_name": "resnode_avx512vnni",
          "type": "static_library",
          "sources": [
            "native/cpu/peak__avx512vnni.cc",
            "native/cpu/qgemm/qu8s8_gemm_12x32c4__avx512vnni.cc",
            "native/cpu/qgemm/qu8s8_igemm_12x32c4__avx512vnni.cc"
          ],
          "cflags": [ "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mavx512vnni" ]
        },
        {
          "target_name": "resnode_avx2",
          "type": "static_library",
          "sources": [
            "native/cpu/gemm/f32_gemm_6x16__avx2.cc",
            "native/cpu/igemm/f32_igemm_6x16__avx2.cc",
            "native/cpu/qgemm/qu8s8_gemm_2x16c4__avx2.cc",
            "native/cpu/qpool/qu8_maxpool__avx2.cc",
            "native/cpu/peak__avx2.cc",
            "native/cpu/eltwise/f16_vcvt__avx2.cc",
            "native/cpu/eltwise/f32_vbinary__avx2.cc",
            "native/cpu/eltwise/f32_vunary__avx2.cc",
            "native/cpu/eltwise/f32_qlinear_vadd__avx2.cc",
            "native/cpu/eltwise/f32_vquantize_dequantize__avx2.cc",
            "native/cpu/dwconv/f32_dwconv_3x3s1__avx2.cc",
            "native/cpu/dwconv/f32_dwconv_3x3s2__avx2.cc",
            "native/cpu/dwconv/f32_dwconv_5x5s1__avx2.cc",
            "native/cpu/dwconv/f32_dwconv_5x5s2__avx2.cc",
            "native/cpu/dwconv/f32_dwconv_7x7s1__avx2.cc",
            "native/cpu/dwconv/f32_dwconv_7x7s2__avx2.cc",
            "native/cpu/dwconv/f32_vmulcaddc__avx2.cc",
            "native/cpu/dwconv/f32_deinterleave2__avx2.cc",
            "native/cpu/pool/f32_gavgpool_cw__avx2.cc",
            "native/cpu/pool/f32_maxpool__avx2.cc",
            "native/cpu/pool/f32_avgpool__avx2.cc",
            "native/cpu/norm/f32_layernorm__avx2.cc"
          ],
          "cflags": [ "-mavx2", "-mfma" ]
        }
      ]
    } ]
  ]
}
