{
  "targets": [
    {
      "target_name": "resnode",
      "sources": [ "native/addon.cc" ],
      "include_dirs": [ "<!(node -p \"require('node-addon-api').include_dir\")" ],
      "defines": [ "NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED" ],
      "cflags_cc": [ "-std=c++17", "-O3", "-fexceptions" ],
      "cflags_cc!": [ "-fno-exceptions" ]
    }
  ]
}
