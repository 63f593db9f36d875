#!/usr/bin/env bash
# The GPU check: the golden cases, tune, the benchmark suite at real sizes on a machine with a GPU
# that has no Node, no npm and no network (the device machine lent to some sessions), in about
# 6 minutes (360 s of steps), with its figures written as a bench/RESULTS.md section.
#
#   scripts/gpu-check.sh prepare [--golden DIR]
#                                       here: builds .gpu-check/ (git-excluded, < 64 MiB with the
#                                       working tree): this machine's node binary and Dawn
#                                       (dawn.node) xz-compressed, the engine bundled by esbuild
#                                       into one file, the Vulkan loader (libvulkan1 .deb), the
#                                       golden cases and their checker (DIR, else $GPU_CHECK_GOLDEN,
#                                       else ../shared/golden; checker: DIR/../tools/check-cases.sh;
#                                       a case the tree's tests/fixtures/NAME holds byte for byte is
#                                       not copied: run takes it from there, checked against
#                                       golden-in-tree.sha256), the stamp (below) and SHA256SUMS of
#                                       it all; fails (size, below) when it and the tree pass 60 MiB
#   scripts/gpu-check.sh run [--quick]  there (or here on lavapipe: --quick for CPU-sized shapes):
#                                       checks what was carried (one line and exit 1 if anything is
#                                       damaged, or if src/ and kernels/ here are not what the stamp
#                                       says the bundle was built from), unpacks it, runs `tessera
#                                       info` (a full run stops there when the adapter is a CPU or
#                                       there is none), the golden cases, `tune`, `bench ceiling`,
#                                       `bench gemm --variants all`, `bench suite`, attention and
#                                       block at 4k–32k tokens, the Wan-1.3B 480p step; writes
#                                       $OUT/gpu-check.md, steps.txt, log.txt and gpu-check-raw.tar.gz
#                                       (every step's output and JSON). All four are written again
#                                       after every step (the report then marked INCOMPLETE), so a
#                                       run killed by the device call's timeout still returns what
#                                       it had measured.
#   scripts/gpu-check.sh collect DIR    here: appends DIR/gpu-check.md to bench/RESULTS.md (never an
#                                       empty one; a section already there is not appended again)
#   scripts/gpu-check.sh stamp DIR      prepare's stamp step: DIR/source.sha256 (every file under
#                                       src/ and kernels/ that git does not ignore) and DIR/STAMP
#                                       (commit = git rev-parse HEAD, dirty = uncommitted changes
#                                       in src/ or kernels/, source = sha256 of source.sha256)
#   scripts/gpu-check.sh size DIR       prepare's size step: DIR + the working tree (what the device
#                                       tool carries, 64 MiB at most) in one line; exit 1 over 60 MiB
#                                       ($GPU_CHECK_LIMIT_MIB), naming DIR's three largest files
#   scripts/gpu-check.sh pack SRC DEST  prepare's atomic xz step (kept if DEST is newer, passes
#                                       `xz -t` and holds SRC's size; else DEST.tmp, tested, renamed)
#
# Exit status of run: 0 every step ran and exited 0; 1 refused before any step (.gpu-check missing,
# damaged or stale, the carried node or Dawn does not run here); 2 usage error (any mode); 3 the
# report is written but a step failed (a wrong kernel, a failed golden case, a crash) or the report
# itself failed; 4 the report is written, no step failed, but a step ran out of its time or was
# skipped (time budget spent, golden cases not carried); 5 a full run stopped after `info`: the
# WebGPU adapter is a CPU (lavapipe) or there is none (--quick runs on, for the CPU smoke test; an
# info that ran out of its time does not stop a full run).
#
# With the device tool: run(command="scripts/gpu-check.sh run", carry=[".gpu-check"], timeout_s=420):
# unpacking and every step end within 360 s ($GPU_CHECK_BUDGET; --quick: 900 s), each step under a
# cap of its own (they sum to 350 s; the golden cases run second, so their 80 s are never the
# leftovers), cut to what is left of the budget. With a machine's start (1–2 min) that leaves
# room for a rerun inside the 15-minute device budget.
# Every benchmark checks its kernel against the float64 reference before timing it (a wrong one
# is reported, never timed); a step that fails or runs out of its time is reported as such (a
# NOT MEASURED line with its exit status and last output) and the rest still run.
# $GPU_CHECK_DIR replaces .gpu-check and $GPU_CHECK_RESULTS bench/RESULTS.md (tests). run's two
# per-run folders (gpu-check-work.*, gpu-check-node.*: the steps' outputs, the unpacked node and
# Dawn) are made under $TMPDIR, else /tmp, and removed when the run ends (a run killed with
# SIGKILL leaves them).
set -uo pipefail
CALLER_PWD=$PWD
cd "$(dirname "$0")/.."
ROOT=$(pwd)
G="${GPU_CHECK_DIR:-$ROOT/.gpu-check}"
mode="${1:-}"
shift || true

die() { echo "gpu-check: $*" >&2; exit 1; }
usage() { echo "gpu-check: $*" >&2; exit 2; }

# pack SRC DEST: DEST = SRC xz-compressed. An existing DEST is kept only when it is newer than SRC,
# passes `xz -t` and unpacks to SRC's size; else it is written to DEST.tmp, tested and renamed, so
# an interrupted prepare never leaves a short archive under the final name.
pack() {
  [ $# = 2 ] || usage "usage: scripts/gpu-check.sh pack SRC DEST"
  local src=$1 dest=$2
  [ -f "$src" ] || die "pack: no file $src"
  if [ -f "$dest" ] && [ "$dest" -nt "$src" ]; then
    local n
    n=$(xz --robot -l "$dest" 2>/dev/null | awk '$1 == "totals" { print $5 }')
    if [ -n "$n" ] && [ "$n" = "$(stat -c %s "$src")" ] && xz -t "$dest" 2>/dev/null; then
      echo "[prepare] $dest is up to date"
      return 0
    fi
    echo "[prepare] WARNING: $dest is damaged or stale (xz -t / size check failed): compressing it again"
  fi
  rm -f "$dest"
  echo "[prepare] $src → $dest"
  if ! { xz -T2 -6 -c "$src" >"$dest.tmp" && xz -t "$dest.tmp" && mv -f "$dest.tmp" "$dest"; }; then
    rm -f "$dest.tmp"
    die "could not compress $src into $dest"
  fi
}

# stripped FILE NAME HOW: the path of FILE without its symbols and debug info (strip HOW), made once in
# /tmp/gpu-check-strip/NAME with FILE's date (strip -p, so pack keeps an archive made from it before); FILE itself
# when strip is missing or fails. Debian's node carries its debug info (98.9 MB, 86.3 stripped) and Dawn its symbols
# (21.5 MB, 17.5 with --strip-unneeded, which keeps the dynamic ones a loader needs): 2.4 MiB less to carry xz'd.
stripped() {
  local f=$1 out=/tmp/gpu-check-strip/$2
  mkdir -p /tmp/gpu-check-strip
  if [ -f "$out" ] && [ ! "$f" -nt "$out" ] && [ ! "$out" -nt "$f" ]; then echo "$out"; return 0; fi
  if command -v strip >/dev/null && strip "$3" -p -o "$out.tmp" "$f" 2>/dev/null && mv -f "$out.tmp" "$out"; then echo "$out"; return 0; fi
  rm -f "$out.tmp"
  echo "[prepare] WARNING: could not strip $f (binutils' strip): carrying it whole" >&2
  echo "$f"
}

# source_manifest: one sha256sum line per file under src/ and kernels/ that travels with the
# working tree (tracked, or untracked and not ignored: src/kernels.gen.ts is generated and ignored)
# (a tracked file deleted here is not one)
source_files() {
  local f
  git ls-files -z -co --exclude-standard -- src kernels | sort -z | while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done
}
source_manifest() {
  source_files | xargs -0 -r sha256sum
}

# stamp DIR: what prepare bundled, for `run` to compare with the tree that travelled beside it
stamp() {
  [ $# = 1 ] || usage "usage: scripts/gpu-check.sh stamp DIR"
  local d=$1 commit dirty=no
  [ -d "$d" ] || die "stamp: no folder $d"
  commit=$(git rev-parse HEAD 2>/dev/null) || die "stamp: not a git checkout here ($ROOT): prepare needs one"
  [ -z "$(git status --porcelain -- src kernels)" ] || dirty=yes
  source_manifest >"$d/source.sha256.tmp" && [ -s "$d/source.sha256.tmp" ] || { rm -f "$d/source.sha256.tmp"; die "stamp: no files under src/ and kernels/ in $ROOT"; }
  mv -f "$d/source.sha256.tmp" "$d/source.sha256"
  printf 'commit %s\ndirty %s\nsource %s\nprepared %s\n' "$commit" "$dirty" "$(sha256sum <"$d/source.sha256" | cut -c1-64)" "$(date -u +%Y-%m-%dT%H:%MZ)" >"$d/STAMP"
}

# check_stamp: one line naming what differs (at most 3 files) when the tree here is not what the
# carried bundle was built from; nothing when it is
check_stamp() {
  [ -f "$G/STAMP" ] && [ -f "$G/source.sha256" ] || { echo "$G has no STAMP (prepared by an older gpu-check.sh: the code its bundle holds is unknown)"; return; }
  local commit dirty diff
  commit=$(awk '$1 == "commit" { print substr($2, 1, 12) }' "$G/STAMP")
  dirty=$(awk '$1 == "dirty" { print ($2 == "yes" ? " with uncommitted changes" : "") }' "$G/STAMP")
  # changed or missing files; with git here (the .git folder may not travel), added ones too
  diff=$( { sha256sum -c --quiet "$G/source.sha256" 2>/dev/null | sed -E 's/: FAILED open or read$/ missing/; s/: FAILED$/ changed/'
            if git rev-parse --git-dir >/dev/null 2>&1; then
              source_files | tr '\0' '\n' | comm -13 <(sed -E 's/^[0-9a-f]{64} [ *]//' "$G/source.sha256" | sort) - | sed 's/$/ added/'
            fi; } )
  [ -n "$diff" ] || return 0
  local n
  n=$(echo "$diff" | wc -l)
  echo "src/ and kernels/ here differ from what $G was prepared from (commit $commit$dirty): $(echo "$diff" | head -3 | awk 'NR > 1 { printf ", " } { printf "%s", $0 }')$( [ "$n" -le 3 ] || echo ", $((n - 3)) more")"
}

# golden_in_tree: the golden cases run takes from the working tree (tests/fixtures/NAME), one name a line
golden_in_tree() {
  [ -f "$G/golden-in-tree.sha256" ] || return 0
  sed -E 's|^[0-9a-f]{64} [ *]tests/fixtures/([^/]+)/case\.json$|\1|;t;d' "$G/golden-in-tree.sha256"
}

# size DIR: DIR (the .gpu-check) and the working tree that travels beside it, against BUNDLE_LIMIT_MIB (60 MiB:
# the device tool carries 64 MiB in all, tree included, and the tree may grow between prepare and the run).
# One line with both sizes; over the limit, exit 1 with DIR's three largest files and what to cut.
BUNDLE_LIMIT_MIB=${GPU_CHECK_LIMIT_MIB:-60}
bundle_size() {
  [ $# = 1 ] || usage "usage: scripts/gpu-check.sh size DIR"
  local d=$1 size tree
  [ -d "$d" ] || die "size: no folder $d"
  size=$(du -sb "$d" | cut -f1)
  # (one du over the whole list: xargs would split a long one and print a total per part)
  tree=$( { git ls-files -z; git ls-files -z --others --exclude-standard; } | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
  local mib='{ printf "%.1f", $1 / 1048576 }'
  local total=$((size + ${tree:-0}))
  echo "[prepare] $d $(echo "$size" | awk "$mib") MiB + working tree $(echo "${tree:-0}" | awk "$mib") MiB = $(echo "$total" | awk "$mib") MiB (limit $BUNDLE_LIMIT_MIB MiB of the device tool's 64)"
  [ "$total" -gt $((BUNDLE_LIMIT_MIB * 1048576)) ] || return 0
  local big
  big=$(cd "$d" && find . -type f -printf '%s %P\n' | sort -rn | head -3 | awk '{ printf "%s%s %.1f MiB", (NR > 1 ? ", " : ""), $2, $1 / 1048576 }')
  die "the bundle is $(echo "$total" | awk "$mib") MiB ($d $(echo "$size" | awk "$mib") MiB + working tree $(echo "${tree:-0}" | awk "$mib") MiB), over $BUNDLE_LIMIT_MIB MiB: largest in $d: $big; carry fewer golden cases (--golden DIR) or shrink the tree"
}

prepare() {
  local golden=${GPU_CHECK_GOLDEN:-} explicit=0
  [ -n "$golden" ] && explicit=1
  while [ $# -gt 0 ]; do
    case "$1" in
      --golden) [ $# -ge 2 ] || usage "--golden needs a folder (the one holding the golden case folders)"; golden=$2; explicit=1; shift 2 ;;
      *) usage "prepare takes only --golden DIR, not '$1'" ;;
    esac
  done
  [ -n "$golden" ] || golden="$ROOT/../shared/golden"
  [[ "$golden" = /* ]] || golden="$CALLER_PWD/$golden"
  local checker
  checker="$(dirname "$golden")/tools/check-cases.sh"
  if [ $explicit = 1 ]; then
    # an explicit folder that is not usable is an error, before the minutes of compressing
    [ -d "$golden" ] || die "golden folder $golden (--golden / GPU_CHECK_GOLDEN) does not exist"
    ls "$golden"/*/case.json >/dev/null 2>&1 || die "golden folder $golden holds no case folders (*/case.json)"
    [ -f "$checker" ] || die "no checker $checker beside golden folder $golden (expected ../tools/check-cases.sh)"
  fi
  command -v xz >/dev/null || die "needs xz (apt-get install xz-utils)"
  set -e
  grep -qxF '/.gpu-check/' .git/info/exclude 2>/dev/null || echo '/.gpu-check/' >>.git/info/exclude
  [ -d "$G" ] && chmod -R u+w "$G"
  # no SHA256SUMS until this prepare has finished: `run` refuses a half-built .gpu-check
  rm -f "$G/SHA256SUMS" "$G/golden-skipped.txt" "$G/golden-in-tree.sha256"
  find "$G" -name '*.tmp' -delete 2>/dev/null || true
  trap 'find "$G" -name "*.tmp" -delete 2>/dev/null; echo "gpu-check: prepare interrupted (.gpu-check is incomplete: run prepare again)" >&2; exit 130' INT TERM
  # the compressed binaries are kept when newer and intact (xz of 100 MB takes minutes on 2 cores)
  rm -rf "$G/tools" "$G/golden" "$G/debs" "$G/tessera.mjs"
  mkdir -p "$G/node_modules/webgpu/dist/linux-x64" "$G/debs" "$G/tools" "$G/golden"
  local nodebin wg=node_modules/webgpu
  nodebin=$(command -v node)
  echo "[prepare] node $(node --version)"
  pack "$(stripped "$nodebin" node --strip-all)" "$G/node.xz"
  cp "$wg/index.js" "$wg/package.json" "$G/node_modules/webgpu/"
  echo "[prepare] Dawn $(node -p "require('./$wg/package.json').version")"
  pack "$(stripped "$wg/dist/linux-x64/dawn.node" dawn.node --strip-unneeded)" "$G/node_modules/webgpu/dist/linux-x64/dawn.node.xz"
  echo "[prepare] bundling the CLI (esbuild)"
  stamp "$G"
  node scripts/gen-kernels.mjs
  GPU_CHECK_BUNDLE="$G/tessera.mjs" node --input-type=module -e "
    import * as esbuild from 'esbuild';
    await esbuild.build({
      stdin: { contents: \"import { main } from './src/cli/main.ts'; process.exitCode = await main(process.argv.slice(2));\", resolveDir: '.', loader: 'ts', sourcefile: 'gpu-check-entry.ts' },
      bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: process.env.GPU_CHECK_BUNDLE, external: ['webgpu'],
      banner: { js: \"import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);\" },
      logLevel: 'warning',
    });"
  # an edit to src/ or kernels/ while esbuild read them would leave a stamp that lies
  [ -z "$(check_stamp)" ] || die "src/ or kernels/ changed while prepare bundled them: run scripts/gpu-check.sh prepare again"
  echo "[prepare] $(head -2 "$G/STAMP" | tr '\n' ' ')($(wc -l <"$G/source.sha256") files under src/ and kernels/)"
  echo "[prepare] Vulkan loader (libvulkan1, amd64)"
  local o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/gpu-check-apt-lists)
  mkdir -p /tmp/gpu-check-apt-lists/partial
  if ! ls /tmp/gpu-check-apt-lists/*Packages* >/dev/null 2>&1; then apt-get "${o[@]}" update -qq; fi
  (cd "$G/debs" && apt-get "${o[@]}" download libvulkan1 >/dev/null)
  if [ -d "$golden" ] && [ -f "$checker" ]; then
    cp "$checker" "$G/tools/"
    local d n
    : >"$G/golden-in-tree.sha256"
    for d in "$golden"/*/; do
      n=$(basename "$d"); [ -f "$d/case.json" ] || continue
      # a case the working tree holds byte for byte (tests/fixtures/NAME, tracked: it travels with the tree) is not
      # carried twice: run takes it from there, after checking it against golden-in-tree.sha256
      if [ -n "$(git ls-files -- "tests/fixtures/$n/case.json")" ] && diff -rq "$d" "tests/fixtures/$n" >/dev/null 2>&1; then
        find "tests/fixtures/$n" -type f -print0 | sort -z | xargs -0 sha256sum >>"$G/golden-in-tree.sha256"
        continue
      fi
      # every other case folder travels whole (the reference files with it)
      cp -r --no-preserve=mode "$d" "$G/golden/$n"
    done
    echo "[prepare] golden cases from $golden: $(ls "$G/golden" | wc -l) carried, $(golden_in_tree | wc -l) the same as the tree's tests/fixtures (not carried twice)"
  else
    local why="no golden cases: $golden or its ../tools/check-cases.sh is absent where prepare ran (give the folder with --golden DIR or GPU_CHECK_GOLDEN)"
    echo "[prepare] WARNING: $why; run will skip them"
    echo "$why" >"$G/golden-skipped.txt"
  fi
  # the report runs from the tree's scripts/, beside this script (an older .gpu-check may hold a copy)
  rm -f "$G/gpu-check-report.mjs"
  rm -f "$G/node_modules/webgpu/dist/linux-x64/dawn.node"   # only the .xz travels
  bundle_size "$G"
  (cd "$G" && find . -type f ! -name SHA256SUMS ! -name '*.tmp' -print0 | sort -z | xargs -0 sha256sum >SHA256SUMS.tmp && mv -f SHA256SUMS.tmp SHA256SUMS)
  trap - INT TERM
  echo "[prepare] done: carry .gpu-check; run(command=\"scripts/gpu-check.sh run\", carry=[\".gpu-check\"], timeout_s=420). Its stamp names commit $(awk '$1 == "commit" { print substr($2, 1, 12) }' "$G/STAMP"): run refuses it once src/ or kernels/ change, so prepare right before the device call"
}

# end_step: kills what the last step left running. `timeout` ends its own process group only, and
# check-cases.sh runs each case under a `timeout` of its own (a group of its own): a case cut off
# with the golden step would otherwise go on using the GPU beside the next steps. Each step's
# processes carry GPU_CHECK_STEP=<this step's tag> in their environment. One grep reads every
# process's environment: a grep per process was a fork per process per step, hundreds on a busy
# machine (tests/cli/gpu-check-script.test.ts beside 490 processes: 52 CPU s, 13 with one grep).
end_step() {
  [ -n "${STEP_TAG:-}" ] || return 0
  local f
  for f in $(grep -lzx "GPU_CHECK_STEP=$STEP_TAG" /proc/[0-9]*/environ 2>/dev/null); do
    f=${f#/proc/}
    kill -KILL "${f%/environ}" 2>/dev/null
  done
  STEP_TAG=''
  return 0
}

run() {
  local quick=0 a
  for a in "$@"; do
    case "$a" in
      --quick) quick=1 ;;
      *) usage "run takes only --quick, not '$a'" ;;
    esac
  done
  # A damaged or stale carried file stops the run here, in one line, before any step runs with it.
  [ -d "$G" ] || die "no $G here: run scripts/gpu-check.sh prepare first (and carry .gpu-check)"
  [ -f "$G/SHA256SUMS" ] || die "$G/SHA256SUMS is missing (prepare did not finish): run scripts/gpu-check.sh prepare again and carry .gpu-check"
  local bad
  bad=$(cd "$G" && sha256sum -c SHA256SUMS 2>/dev/null | grep -v ': OK$' | sed 's|^\./||' | head -3 | awk 'NR > 1 { printf ", " } { printf "%s", $0 }')
  [ -z "$bad" ] || die "$G is damaged ($bad): run scripts/gpu-check.sh prepare again and carry .gpu-check"
  bad=$(check_stamp)
  [ -z "$bad" ] || die "$bad: run scripts/gpu-check.sh prepare again and carry .gpu-check"
  # the golden cases taken from the tree (tests/fixtures) must be what prepare compared with the golden folder
  if [ -s "$G/golden-in-tree.sha256" ]; then
    bad=$(cd "$ROOT" && sha256sum -c "$G/golden-in-tree.sha256" 2>/dev/null | grep -v ': OK$' | sed -E 's/: FAILED open or read$/ missing/; s/: FAILED$/ changed/' | head -3 | awk 'NR > 1 { printf ", " } { printf "%s", $0 }')
    [ -z "$bad" ] || die "golden cases in the tree differ from what $G was prepared with ($bad): run scripts/gpu-check.sh prepare again and carry .gpu-check"
  fi
  OUT="${OUT:-$ROOT/out/gpu-check}"
  mkdir -p "$OUT"
  local start=$SECONDS budget=${GPU_CHECK_BUDGET:-}
  [ -n "$budget" ] || { [ $quick = 1 ] && budget=900 || budget=360; }
  [[ "$budget" =~ ^[0-9]+$ ]] || usage "GPU_CHECK_BUDGET must be whole seconds, not '$budget'"
  local kind=full
  [ $quick = 1 ] && kind=quick
  # Per-run folders under $TMPDIR (default /tmp; two runs never share them): W holds the steps'
  # outputs, R the unpacked node, the bundle and webgpu (Dawn) beside it for ESM resolution. The
  # device returns at most 8 files from $OUT, so it gets gpu-check.md, steps.txt, log.txt and one
  # archive of W (+ their .tmp).
  local tmp=${TMPDIR:-/tmp}
  W=$(mktemp -d "$tmp/gpu-check-work.XXXXXX" 2>/dev/null) && R=$(mktemp -d "$tmp/gpu-check-node.XXXXXX" 2>/dev/null) \
    || { [ -z "$W" ] || rm -rf "$W"; die "could not make its work folders in $tmp (\$TMPDIR, else /tmp): mktemp failed"; }
  STEP_TAG=''
  trap 'end_step; rm -rf "$W" "$R"' EXIT
  trap 'exit 130' INT TERM
  local NODE=$R/node err
  if ! err=$(xz -dc "$G/node.xz" 2>&1 >"$NODE"); then die "could not unpack $G/node.xz (${err:-xz failed}): run scripts/gpu-check.sh prepare again"; fi
  chmod +x "$NODE"
  err=$(timeout 30 "$NODE" --version 2>&1) || die "the carried node ($G/node.xz) does not run here: $(echo "$err" | head -1)"
  mkdir -p "$R/node_modules/webgpu/dist/linux-x64" "$R/bin"
  cp "$G/tessera.mjs" "$R/" && cp "$G/node_modules/webgpu/index.js" "$G/node_modules/webgpu/package.json" "$R/node_modules/webgpu/" \
    || die "could not copy the bundle and webgpu out of $G"
  local dn="$R/node_modules/webgpu/dist/linux-x64/dawn.node"
  if ! err=$(xz -dc "$G/node_modules/webgpu/dist/linux-x64/dawn.node.xz" 2>&1 >"$dn"); then die "could not unpack $G/node_modules/webgpu/dist/linux-x64/dawn.node.xz (${err:-xz failed}): run scripts/gpu-check.sh prepare again"; fi
  err=$(timeout 60 "$NODE" -e 'require(process.argv[1])' "$dn" 2>&1) || die "the carried Dawn (dawn.node) does not load: $(echo "$err" | grep -m1 -i error || echo "$err" | head -1)"
  # The loader, when the machine has none (dpkg -x into / as the device notes say).
  # (ldconfig's output read whole: `grep -q` closing the pipe early fails it under pipefail)
  if ! grep -q 'libvulkan\.so\.1' <<<"$(timeout 30 ldconfig -p 2>/dev/null)"; then
    local f
    ls "$G"/debs/*.deb >/dev/null 2>&1 || die "no Vulkan loader (libvulkan.so.1) here and none in $G/debs"
    for f in "$G"/debs/*.deb; do timeout 60 dpkg -x "$f" / || die "could not unpack $f into /"; done
    timeout 60 ldconfig || echo "gpu-check: ldconfig failed or timed out (the loader may still be found)" >&2
  fi
  local nv=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  if [ -f "$nv" ] && [ -z "${VK_DRIVER_FILES:-}" ] && ! ls /usr/share/vulkan/icd.d/nvidia* /etc/vulkan/icd.d/nvidia* >/dev/null 2>&1; then export VK_DRIVER_FILES=$nv; fi
  export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}" XDG_CACHE_HOME="$W/cache"
  mkdir -p "$XDG_CACHE_HOME"
  local T=("$NODE" "$R/tessera.mjs") REPORT=("$NODE" "$ROOT/scripts/gpu-check-report.mjs")
  : >"$W/steps.txt"
  : >"$W/log.txt"
  cp "$G/STAMP" "$W/stamp.txt"
  date -u +%Y-%m-%dT%H:%MZ >"$W/started.txt"
  # publish [final]: $OUT gets steps.txt, log.txt, the archive of W and the report (INCOMPLETE
  # until the final one), each through a .tmp and a rename, so a run killed at any point leaves
  # whole files of what it had finished
  # to_out FILE: $W/FILE to $OUT/FILE through a .tmp and a rename
  to_out() { cp "$W/$1" "$OUT/$1.tmp" && mv -f "$OUT/$1.tmp" "$OUT/$1"; }
  publish() {
    to_out steps.txt
    to_out log.txt
    # every step's files and the tune cache, not the drivers' shader caches (tens of MB, and the
    # device returns no file over 16 MiB)
    (cd "$W" && { find . -path ./cache -prune -o -type f -print; [ ! -d cache/tessera ] || find ./cache/tessera -type f; } | tar -czf "$OUT/gpu-check-raw.tar.gz.tmp" -T -) \
      && mv -f "$OUT/gpu-check-raw.tar.gz.tmp" "$OUT/gpu-check-raw.tar.gz"
    local partial=--partial
    [ "${1:-}" = final ] && partial=''
    if timeout 60 "${REPORT[@]}" "$W" $kind $partial >"$W/gpu-check.md" 2>>"$W/log.txt" && [ -s "$W/gpu-check.md" ]; then
      to_out gpu-check.md
      return 0
    fi
    echo "gpu-check: the report failed (see log.txt)" | tee -a "$W/log.txt" >&2
    to_out log.txt
    return 1
  }
  # step NAME SECONDS CMD...: runs under its cap (never past the budget), stdout to $W/NAME.out
  # (last line: NAME.json), stderr to $W/log.txt; then publishes what there is
  step() {
    local name=$1 secs=$2; shift 2
    local left=$((budget - (SECONDS - start)))
    if [ "$left" -lt 5 ]; then
      echo "$name SKIPPED (time budget of ${budget}s spent)" | tee -a "$W/steps.txt"
      publish
      return
    fi
    [ "$secs" -le "$left" ] || secs=$left
    echo "== $name ($*) [limit ${secs}s]" | tee -a "$W/log.txt"
    # which step was running, should the run be killed in it
    to_out log.txt
    local t0=$SECONDS
    STEP_TAG="$$-$name-$RANDOM"
    GPU_CHECK_STEP=$STEP_TAG timeout -k 5 "$secs" "$@" >"$W/$name.out" 2>>"$W/log.txt"
    local rc=$?
    end_step
    tail -n 1 "$W/$name.out" >"$W/$name.json" 2>/dev/null
    local note=''
    [ $rc = 124 ] || [ $rc = 137 ] && note=" (ran out of its ${secs} s)"
    echo "$name rc=$rc $((SECONDS - t0))s$note" | tee -a "$W/steps.txt"
    publish
  }
  timeout 20 nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader >"$W/nvidia-smi.txt" 2>/dev/null || echo "no nvidia-smi" >"$W/nvidia-smi.txt"
  step info 15 "${T[@]}" info --json
  # A full run measures a GPU: on a CPU adapter (the NVIDIA driver did not load, Dawn fell back to
  # lavapipe) or none (info failed), its 360 s of full-size shapes would measure nothing, so it
  # stops here. An info that merely ran out of its time (a slow first Vulkan init) says nothing
  # about the adapter: the run goes on, and the report shows info NOT MEASURED.
  local adapter
  adapter=$(timeout 30 "${REPORT[@]}" --adapter "$W" 2>/dev/null) || adapter="none (the report script failed on info.json)"
  if [ $quick = 0 ] && [ "${adapter%% *}" = unknown ]; then
    echo "gpu-check: tessera info ${adapter#unknown }: the adapter is not known; the full run goes on" >&2
  elif [ $quick = 0 ] && [ "${adapter%% *}" != gpu ]; then
    local why
    if [ "${adapter%% *}" = cpu ]; then
      why="the WebGPU adapter is a CPU (${adapter#cpu }), not a GPU: did the NVIDIA Vulkan driver load? (run --quick is the CPU smoke test)"
    else
      why="no WebGPU adapter (${adapter#none }): see log.txt"
    fi
    echo "STOPPED the full run after info: $why" >>"$W/steps.txt"
    publish final
    echo "gpu-check: $why; the full run stops here (exit 5; $OUT has steps.txt, log.txt and the report)" >&2
    exit 5
  fi
  # Golden cases second, so no benchmark can eat their share: through the shared checker with
  # `npx tessera` pointing at the bundle.
  local why=''
  if [ -f "$G/golden-skipped.txt" ]; then why=$(head -1 "$G/golden-skipped.txt")
  elif [ ! -f "$G/tools/check-cases.sh" ] || { ! ls "$G"/golden/*/case.json >/dev/null 2>&1 && [ -z "$(golden_in_tree)" ]; }; then why="no golden cases or checker in $G"
  elif ! timeout 30 python3 -c 'import numpy' 2>/dev/null; then why="no python3 with numpy here (the checker compares with it)"
  fi
  if [ -z "$why" ]; then
    printf '#!/usr/bin/env bash\n[ "$1" = --no-install ] && shift\n[ "$1" = tessera ] && shift\nexec "%s" "%s" "$@"\n' "$NODE" "$R/tessera.mjs" >"$R/bin/npx"
    chmod +x "$R/bin/npx"
    # the carried cases, and those the tree holds (checked against their sums before any step)
    local cases=() c
    for c in "$G"/golden/*/; do [ -f "$c/case.json" ] && cases+=("$c"); done
    while IFS= read -r c; do cases+=("$ROOT/tests/fixtures/$c/"); done < <(golden_in_tree)
    if [ $quick = 1 ]; then
      local small=()
      for c in "${cases[@]}"; do case "$(basename "$c")" in dit_small|wan_small) small+=("$c") ;; esac; done
      [ ${#small[@]} = 0 ] || cases=("${small[@]}")
    fi
    # full: 11 small cases in 80 s, none over 25 s (seconds each on a GPU); quick: lavapipe compiles
    local gsecs=80 case_secs=25
    [ $quick = 1 ] && { gsecs=300; case_secs=150; }
    step golden $gsecs env PATH="$R/bin:$PATH" CASE_TIMEOUT=$case_secs bash "$G/tools/check-cases.sh" "${cases[@]}"
  else
    echo "golden SKIPPED ($why)" | tee -a "$W/steps.txt"
    echo "$why" >"$W/golden-skipped.txt"
  fi
  if [ $quick = 1 ]; then
    step tune 300 "${T[@]}" tune --quick --json
    step ceiling 120 "${T[@]}" bench ceiling --json --repeats 3
    step gemm_variants 300 "${T[@]}" bench gemm --m 256 --k 1152 --n 1152 --variants all --json --repeats 3 --warmup 1 --no-ceiling
    step suite 300 "${T[@]}" bench suite --quick --json --repeats 3 --no-wall
    step attention_4k 300 "${T[@]}" bench attention --heads 2 --tokens 256 --head-dim 64 --json --repeats 2 --no-wall --no-ceiling
    step wan_step 200 "${T[@]}" bench model --preset wan-tiny --json --repeats 1 --no-wall --no-ceiling
  else
    # caps in seconds, with info and golden 350 in all, under the 360 s budget: each step gets its
    # cap. On lavapipe these steps are compile-bound and take minutes; on an H200 seconds.
    step tune 30 "${T[@]}" tune --json --rounds 3
    step ceiling 10 "${T[@]}" bench ceiling --json --repeats 5
    step gemm_variants 20 "${T[@]}" bench gemm --m 4096 --k 1152 --n 1152 --variants all --json --repeats 10 --warmup 2
    step gemm_variants_f16 15 "${T[@]}" bench gemm --m 4096 --k 1152 --n 1152 --variants all --json --repeats 10 --warmup 2 --dtype f16
    step suite 25 "${T[@]}" bench suite --json --repeats 10 --no-wall
    step attention_4k 10 "${T[@]}" bench attention --heads 12 --tokens 4096 --head-dim 128 --json --repeats 5 --no-wall --no-ceiling
    step attention_32k 20 "${T[@]}" bench attention --heads 12 --tokens 32760 --head-dim 128 --json --repeats 2 --warmup 1 --no-wall --no-ceiling
    step block_4k 10 "${T[@]}" bench block --hidden 1536 --heads 12 --tokens 4096 --mlp-ratio 5.8333 --json --repeats 3 --no-wall --no-ceiling
    # the check's 3 forwards at a 2×16×16 cap of the latent, weights made on the GPU, then 1 timed
    # forward at full size (~5.6e14 FLOPs, ≥ 8.4 s at the FP32 peak) with its compiling. --no-tune:
    # the tune step covers f32 GEMM shapes only, and timing every f16 GEMM and attention candidate
    # at 32,760 tokens could spend the cap alone (the GPU heuristics pick tiled GEMM and fa2). On a
    # slow attention this step runs out of time and the report says NOT MEASURED
    step wan_480p 115 "${T[@]}" bench model --preset wan-1.3b --dtype f16 --frames 21 --height 60 --width 104 --json --repeats 1 --warmup 0 --no-wall --no-ceiling --no-tune
  fi
  local status=0
  publish final || status=3
  echo "gpu-check: $((SECONDS - start)) s; $OUT/gpu-check.md (+ steps.txt, log.txt, gpu-check-raw.tar.gz)"
  [ -f "$OUT/gpu-check.md" ] && cat "$OUT/gpu-check.md"
  # the exit status sums the steps up: 3 a step failed, else 4 one ran out of its time or was skipped
  local failed short
  failed=$(awk '$2 ~ /^rc=/ && $2 != "rc=0" && $2 != "rc=124" && $2 != "rc=137" { n++ } END { print n + 0 }' "$W/steps.txt")
  short=$(awk '$2 == "rc=124" || $2 == "rc=137" || $2 == "SKIPPED" { n++ } END { print n + 0 }' "$W/steps.txt")
  if [ "$failed" -gt 0 ] || [ $status = 3 ]; then status=3; elif [ "$short" -gt 0 ]; then status=4; fi
  [ $status = 0 ] || echo "gpu-check: exit $status: $failed step(s) failed, $short ran out of their time or were skipped (steps.txt)" >&2
  exit $status
}

collect() {
  [ $# = 1 ] || usage "usage: scripts/gpu-check.sh collect DIR (the folder holding gpu-check.md)"
  local d=$1 results=${GPU_CHECK_RESULTS:-$ROOT/bench/RESULTS.md} head
  [[ "$d" = /* ]] || d="$CALLER_PWD/$d"
  [ -f "$d/gpu-check.md" ] || die "no $d/gpu-check.md"
  head=$(grep -m1 -v '^[[:space:]]*$' "$d/gpu-check.md")
  [ -n "$head" ] || die "$d/gpu-check.md is empty (the report failed? see $d/log.txt): nothing appended"
  [[ "$head" == '## GPU check ('* ]] || die "$d/gpu-check.md does not start with a '## GPU check (…' heading (not a gpu-check report?): nothing appended"
  [ -f "$results" ] || die "no $results"
  if grep -qxF -- "$head" "$results"; then
    echo "$results already has this section ($head): nothing appended"
    return 0
  fi
  { echo; cat "$d/gpu-check.md"; } >>"$results"
  echo "appended $d/gpu-check.md to $results"
}

case "$mode" in
  prepare) prepare "$@" ;;
  run) run "$@" ;;
  collect) collect "$@" ;;
  stamp) stamp "$@" ;;
  pack) command -v xz >/dev/null || die "needs xz"; pack "$@" ;;
  size) bundle_size "$@" ;;
  *) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0"; exit 2 ;;
esac
