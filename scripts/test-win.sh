#!/usr/bin/env bash
# test-win.sh - build the Windows addon and run test/windows/*.test.mjs with a real
# Windows node.exe under Wine, in a throwaway Wine prefix.
#
#   npm run test:win             (or: bash scripts/test-win.sh [test/windows/x.test.mjs ...])
#
# Env: everything build-win.sh takes, plus KEEP_WINE_TMP=1 (keep the temp dir),
#      WINE_TIMEOUT (seconds per test file, default 180).
# Pitfalls handled here (the project's Windows probe, see docs/WINDOWS.md): node.exe's output
# goes to a file, never a Unix pipe (console.log fails with EBADF otherwise); the
# prefix reports Windows 10 (Node >= 20 refuses Windows 7); every Wine step runs under
# `timeout`; the prefix's wineserver is killed on every exit path.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
NODE_WIN_VERSION="${NODE_WIN_VERSION:-20.20.2}"
WORK="${WIN_WORK:-$ROOT/.wine-work}"
WINE=/usr/lib/wine/wine64          # Debian's wine64 ships no /usr/bin/wine
WINESERVER=/usr/lib/wine/wineserver
PER_FILE_TIMEOUT="${WINE_TIMEOUT:-180}"
START=$SECONDS
exec 3>&2   # timings go to the real stderr even when a step's output goes to a file
t() { local s=$SECONDS; "$@"; echo "[test-win] $((SECONDS - s)) s: $*" >&3; }

t bash "$ROOT/scripts/build-win.sh"

# The high-level suite loads dist/ (the compiled lib/); build it when lib/ has an entry.
if [ -f "$ROOT/lib/index.ts" ] && [ -z "${SKIP_BUILD_TS:-}" ]; then
  t npm --prefix "$ROOT" run --silent build:ts
fi

TMP="$(mktemp -d /tmp/syslocks-wine.XXXXXX)"
export WINEPREFIX="$TMP/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
cleanup() {
  timeout 30 "$WINESERVER" -k >/dev/null 2>&1 || true
  if [ -z "${KEEP_WINE_TMP:-}" ]; then rm -rf "$TMP"; else echo "[test-win] kept $TMP" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A fresh headless prefix (no X server needed; the rundll32/explorer messages are harmless).
t timeout 120 "$WINE" wineboot --init >"$TMP/wineboot.log" 2>&1
t timeout 120 "$WINESERVER" -w
timeout 60 "$WINE" reg add 'HKCU\Software\Wine' /v Version /d win10 /f >>"$TMP/wineboot.log" 2>&1

NODE_EXE="$WORK/nodewin-$NODE_WIN_VERSION/package/bin/node.exe"
if [ $# -gt 0 ]; then FILES=("$@"); else FILES=("$ROOT"/test/windows/*.test.mjs); fi

failed=0
cd "$ROOT"   # node.exe sees it as Z:\...; the tests find the repo relative to themselves
for f in "${FILES[@]}"; do
  name="$(basename "$f")"
  log="$TMP/$name.log"
  s=$SECONDS rc=0
  timeout "$PER_FILE_TIMEOUT" "$WINE" "$NODE_EXE" "$f" </dev/null >"$log" 2>&1 || rc=$?
  cat "$log"
  echo "[test-win] $((SECONDS - s)) s: $name exited $rc" >&2
  [ "$rc" -eq 0 ] || failed=$((failed + 1))
done

# The addon must load into a host process not named node.exe (Electron, a renamed node):
# its Node-API imports are delay-loaded and bound to the host executable
# (native/win_delay_load_hook.cc). The same node.exe under another name runs the
# portable smoke suite (test/smoke/smoke.mjs; its second process is the same host).
if [ $# -eq 0 ]; then
  mkdir -p "$TMP/renamed"
  cp "$NODE_EXE" "$TMP/renamed/electron-like-host.exe"
  log="$TMP/renamed-host.log"
  s=$SECONDS rc=0
  timeout "$PER_FILE_TIMEOUT" "$WINE" "$TMP/renamed/electron-like-host.exe" test/smoke/smoke.mjs \
    </dev/null >"$log" 2>&1 || rc=$?
  cat "$log"
  echo "[test-win] $((SECONDS - s)) s: smoke.mjs in electron-like-host.exe exited $rc" >&2
  [ "$rc" -eq 0 ] || failed=$((failed + 1))
  FILES+=("renamed host")
fi

echo "[test-win] total $((SECONDS - START)) s; ${#FILES[@]} file(s), $failed failed" >&2
[ "$failed" -eq 0 ]
