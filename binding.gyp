{
  "variables": {
    "have_liburing%": "<!(test -f /usr/include/liburing.h && echo 1 || echo 0)"
  },
  "targets": [
    {
      "target_name": "tapswitch",
      "sources": [
        "native/addon.cc",
        "native/batch.cc",
        "native/copy.cc",
        "native/errors.cc",
        "native/packet_socket.cc",
        "native/tap.cc",
        "native/thread.cc",
        "native/uring.cc",
        "native/vlan.cc",
        "native/vxlan.cc",
        "native/wait.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "libraries": ["-pthread"],
      "conditions": [
        ["have_liburing==1", {
          "defines": ["TAPSWITCH_HAVE_LIBURING"],
          "libraries": ["-luring"]
        }]
      ]
    }
  ]
}
