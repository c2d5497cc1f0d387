#!/usr/bin/env bash
# The Windows build, for real: cross-build skiff.exe for x86_64-pc-windows-gnu with Debian's
# Rust (rustc-web, std from rust-web-src, -Zbuild-std) and mingw-w64 as linker, then run it
# under Wine (Debian 12: wine 8.0) — a set of CLI checks, then the first tutorials and the
# image, build and lifecycle CLI tests with SKIFF_TEST_BIN pointing at the .exe.
#
#   .ci/windows.sh           build, CLI checks, tutorials 01-04, image/build/lifecycle tests
#   .ci/windows.sh --quick   build and CLI checks only (what .ci/run runs)
#
# Everything skipped says why. The build and Wine's own files live in target/windows/
# ($CARGO_TARGET_DIR/windows/ if set; never ~/.wine).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
quick=false
[ "${1:-}" = "--quick" ] && quick=true

need=(rustc-web cargo-web rust-web-src gcc-mingw-w64-x86-64 wine wine64 curl)
missing=()
for p in "${need[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "windows: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- build -----------------------------------------------------------------------------------
target_dir=${CARGO_TARGET_DIR:-$repo/target}/windows
exe=$target_dir/x86_64-pc-windows-gnu/release/skiff.exe
t0=$(date +%s)
(
  export PATH="/usr/bin:$PATH" RUSTC_BOOTSTRAP=1
  export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
  cargo build --quiet --release --locked --bin skiff --target x86_64-pc-windows-gnu \
    -Zbuild-std=std,panic_abort --target-dir "$target_dir"
)
echo "windows: built $(basename "$exe") ($(( $(stat -c %s "$exe") / 1048576 )) MiB) in $(( $(date +%s) - t0 ))s"

# --- Wine ------------------------------------------------------------------------------------
export WINEPREFIX=$target_dir/wine WINEDEBUG=-all WINEDLLOVERRIDES="mscoree=;mshtml="
mkdir -p "$WINEPREFIX"
# One server for every run (each `wine` then starts in ~0.3 s); it may be up already.
wineserver -p 60 2>/dev/null || true
trap 'wineserver -k >/dev/null 2>&1 || true' EXIT
# Start the prefix's own processes (services, devices) now, away from any pipe: started by
# the first `$(skiff …)` below, they would inherit its output and hold it open for good.
wineboot --init </dev/null >/dev/null 2>&1 || true
# Wine 8.0 has no bcryptprimitives.dll, which Rust's std needs since 1.78 (ProcessPrng):
# a stand-in for this prefix only (.ci/wine/bcryptprimitives.c says more).
shim=$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll
if [ ! -f "$shim" ] || [ .ci/wine/bcryptprimitives.c -nt "$shim" ]; then
  x86_64-w64-mingw32-gcc -O2 -shared -s -o "$shim" .ci/wine/bcryptprimitives.c -ladvapi32
fi

# `skiff` for the checks and tests: the .exe under Wine, with its own module cache (compiled
# code is per OS: the engine fingerprint says so, and the cache must not be shared with the
# Linux build's).
bin=$target_dir/wine-bin
mkdir -p "$bin" "$target_dir/module-cache"
cat >"$bin/skiff" <<EOF
#!/bin/sh
WINEPREFIX='$WINEPREFIX' WINEDEBUG=-all SKIFF_WINE_EXE='$exe' SKIFF_WINE_CACHE='$target_dir/module-cache' \\
  exec '$repo/.ci/wine/skiff-under-wine' "\$@"
EOF
chmod +x "$bin/skiff"
skiff=$bin/skiff

# --- CLI checks ------------------------------------------------------------------------------
work=$(mktemp -d)
export SKIFF_ROOT=$work/root
cd "$work"
pass=0
fail=0
skipped=0
errs=$work/stderr
check() { # NAME WANT(glob) CMD...  (stdout, then a line break and stderr if any, against WANT)
  local name=$1 want=$2 out err
  shift 2
  # stderr to a file: under Wine a detached supervisor keeps its starter's Unix stderr
  # (.ci/wine/skiff-under-wine), and a pipe would not end while the container runs.
  out=$("$@" 2>"$errs") || true
  err=$(cat "$errs")
  [ -n "$err" ] && out+=$'\n'$err
  # shellcheck disable=SC2053
  if [[ "$out" == $want ]]; then
    echo "  ok    $name"
    pass=$((pass + 1))
  else
    echo "  FAIL  $name"
    echo "        wanted: $want"
    echo "        got:    ${out//$'\n'/$'\n'                }"
    fail=$((fail + 1))
  fi
}
skip() {
  echo "  skip  $1: $2"
  skipped=$((skipped + 1))
}

echo "windows: CLI checks under $(wine --version)"
t1=$(date +%s)
check "--version" "skiff *" "$skiff" --version
check "run busybox echo hi" "hi*" "$skiff" run --rm busybox echo hi
check "busybox's symlinks resolve" "*ls -> box*" "$skiff" run --rm busybox ls -l /bin/ls
check "modes survive (box is 0755)" "-rwxr-xr-x*" "$skiff" run --rm busybox sh -c 'ls -l /bin/box'
check "guest symlinks and chmod" $'h -> /etc/issue\n700' "$skiff" run --rm busybox sh -c \
  'cd /tmp && ln -s /etc/issue h && readlink h | sed "s/^/h -> /" && touch f && chmod 700 f && stat -c %a f'
check "run -d" "[0-9a-f]*" "$skiff" run -d --name ticker busybox sh -c \
  'trap "echo bye; exit 3" TERM; i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done'
sleep 1.5
check "ps (another process) shows it Up" "ticker Up*" "$skiff" ps --format '{{.Names}} {{.Status}}'
check "logs" "tick 0*" "$skiff" logs ticker
check "exec" "hello from exec" "$skiff" exec ticker echo hello from exec
check "pause" "ticker" "$skiff" pause ticker
check "ps says Paused" "ticker Up * (Paused)" "$skiff" ps --format '{{.Names}} {{.Status}}'
n1=$("$skiff" logs ticker | wc -l)
sleep 2
n2=$("$skiff" logs ticker | wc -l)
check "paused: no new output" "$n1" echo "$n2"
check "unpause" "ticker" "$skiff" unpause ticker
check "logs -f follows" "*tick*tick*" timeout 3 "$skiff" logs -f --tail 0 ticker
check "stop (TERM, trapped)" "ticker" "$skiff" stop ticker
check "exit status recorded" "ticker Exited (3)*" "$skiff" ps -a --format '{{.Names}} {{.Status}}' --filter name=ticker
check "start again" "ticker" "$skiff" start ticker
check "kill" "ticker" "$skiff" kill ticker
check "killed: 137" "137" "$skiff" inspect -f '{{.State.ExitCode}}' ticker
check "a change in a container" "" "$skiff" run --name changer busybox sh -c 'echo x > /etc/note'
check "diff lists changes" $'C /etc\nA /etc/note' "$skiff" diff changer
check "commit" "sha256:*" "$skiff" commit changer noted
check "the commit runs" "x" "$skiff" run --rm noted cat /etc/note
mkdir -p ctx
printf '#!/bin/sh\necho app says hi\n' >ctx/app.sh
printf 'FROM busybox\nCOPY app.sh /app/\nRUN chmod +x /app/app.sh\nCMD ["/app/app.sh"]\n' >ctx/Dockerfile
check "build" "*Successfully tagged app:latest*" "$skiff" build -t app ctx
check "the build runs (x bit kept)" "app says hi" "$skiff" run --rm app
check "save/load" "Loaded image: app:latest" sh -c "'$skiff' save -o app.tar app && '$skiff' rmi app >/dev/null && '$skiff' load -i app.tar"
if curl --version >/dev/null 2>&1; then
  check "published port (nginx)" "*Welcome to nginx*" sh -c \
    "'$skiff' run -d --name web -p 18089:80 nginx >/dev/null && sleep 1 && curl -s -m 5 localhost:18089"
else
  skip "published port (nginx)" "curl is not installed"
fi
check "names on a user network" "+PONG*" sh -c "'$skiff' network create n1 >/dev/null && '$skiff' run -d --name db \
  --network n1 redis >/dev/null && sleep 1 && '$skiff' run --rm --network n1 busybox sh -c 'echo PING | nc db 6379'"
check "rm -f" "*" "$skiff" rm -f web db ticker changer
check "system check" "*no problems*" "$skiff" system check
echo "windows: CLI checks: $pass passed, $fail failed, $skipped skipped ($(( $(date +%s) - t1 ))s)"
cd "$repo"
rm -rf "$work"
[ "$fail" -eq 0 ] || exit 1
$quick && exit 0

# --- the CLI test suite with the .exe ---------------------------------------------------------
# The tests themselves are the Linux test binary (cargo's); only the skiff they drive is the
# Windows build. Tests that look at what only the Linux binary has are skipped, each saying why.
skips=(
  # "name:reason"
  "lifecycle::a_killed_supervisor_leaves_a_consistent_state:it kills the supervisor with kill(2) by PID, and under Wine the PID skiff records is a Windows one (the CLI checks above kill with \`skiff kill\`)"
)
args=()
for s in "${skips[@]}"; do
  echo "windows: skip ${s%%:*}: ${s#*:}"
  args+=(--skip "${s%%:*}")
done
t2=$(date +%s)
SKIFF_TEST_BIN=$skiff SKIFF_TEST_TUTORIALS="01 02 03 04" \
  cargo test --release --locked --test cli -- images:: build:: lifecycle:: tutorials::tutorials_pass "${args[@]}"
echo "windows: tutorials 01-04 and the image, build and lifecycle tests passed under Wine ($(( $(date +%s) - t2 ))s)"
