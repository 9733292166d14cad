{
  # One addon, platform sources chosen by OS (STYLE.md practice 2): the POSIX file
  # carries flock/fcntl/OFD, the Windows file LockFileEx/UnlockFileEx.
  "targets": [
    {
      "target_name": "syslocks",
      "sources": [
        "native/addon.cc",
        "native/waiter.cc",
        "native/waiter_pool.cc",
        "native/late_grant.cc",
        "native/lock_table.cc",
        "native/channel.cc",
        "native/open_file.cc",
        "native/held_ranges.cc"
      ],
      "include_dirs": ["<!@(node -p \"require('node-addon-api').include\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_DISABLE_CPP_EXCEPTIONS",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags_cc": ["-std=c++17", "-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "xcode_settings": {
        "GCC_SYMBOLS_PRIVATE_EXTERN": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "MACOSX_DEPLOYMENT_TARGET": "10.15"
      },
      "conditions": [
        ["OS=='win'", {
          "sources": ["native/windows_locks.cc", "native/platform_thread_win.cc"],
          "msvs_settings": { "VCCLCompilerTool": { "ExceptionHandling": 0, "AdditionalOptions": ["/std:c++17"] } }
        }, {
          "sources": ["native/posix_locks.cc", "native/platform_thread_posix.cc"]
        }],
        ["OS=='linux'", {
          "defines": ["_GNU_SOURCE", "_FILE_OFFSET_BITS=64"]
        }]
      ]
    }
  ]
}
