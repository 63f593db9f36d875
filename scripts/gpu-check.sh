#!/usr/bin/env bash
# The GPU check: tune, the benchmark suite at real sizes and the golden cases on a machine with a
# GPU that has no Node, no npm and no network (the device machine lent to some sessions), in
# under 8 minutes, with its figures written as a bench/RESULTS.md section.
#
#   scripts/gpu-check.sh prepare        here: builds .gpu-check/ (git-excluded, < 64 MiB with the
#                                       working tree): this machine's node binary and Dawn
#                                       (dawn.node) xz-compressed, the engine bundled by esbuild
#                                       into one file, the Vulkan loader (libvulkan1 .deb), the
#                                       golden cases and their checker
#   scripts/gpu-check.sh run [--quick]  there (or here on lavapipe: --quick for CPU-sized shapes):
#                                       unpacks, runs `tessera info`, `tune`, `bench ceiling`,
#                                       `bench gemm --variants all`, `bench suite`, attention and
#                                       block at 4k–32k tokens, the Wan-1.3B 480p step, the golden
#                                       cases; writes $OUT/gpu-check.md, steps.txt, log.txt and
#                                       gpu-check-raw.tar.gz (every step's output and JSON)
#   scripts/gpu-check.sh collect DIR    here: appends DIR/gpu-check.md to bench/RESULTS.md
#
# With the device tool: run(command="scripts/gpu-check.sh run", carry=[".gpu-check"], timeout_s=540).
# Every benchmark checks its kernel against the float64 reference before timing it (a wrong one
# is reported, never timed); a step that fails or runs out of its time is reported as such and
# the rest still run.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
G="$ROOT/.gpu-check"
mode="${1:-}"
shift || true

prepare() {
  set -e
  command -v xz >/dev/null || { echo "gpu-check: needs xz (apt-get install xz-utils)"; exit 1; }
  grep -qxF '/.gpu-check/' .git/info/exclude 2>/dev/null || echo '/.gpu-check/' >>.git/info/exclude
  [ -d "$G" ] && chmod -R u+w "$G"
  # the compressed binaries are kept when newer than their source (xz of 120 MB takes minutes on 2 cores)
  rm -rf "$G/tools" "$G/golden" "$G/debs" "$G/tessera.mjs"
  mkdir -p "$G/node_modules/webgpu/dist/linux-x64" "$G/debs" "$G/tools" "$G/golden"
  local nodebin wg=node_modules/webgpu
  nodebin=$(command -v node)
  if [ ! "$G/node.xz" -nt "$nodebin" ]; then
    echo "[prepare] node $(node --version) → node.xz"
    xz -T2 -6 -c "$nodebin" >"$G/node.xz"
  fi
  cp "$wg/index.js" "$wg/package.json" "$G/node_modules/webgpu/"
  local dz="$G/node_modules/webgpu/dist/linux-x64/dawn.node.xz"
  if [ ! "$dz" -nt "$wg/dist/linux-x64/dawn.node" ]; then
    echo "[prepare] Dawn $(node -p "require('./$wg/package.json').version") → dawn.node.xz"
    xz -T2 -6 -c "$wg/dist/linux-x64/dawn.node" >"$dz"
  fi
  echo "[prepare] bundling the CLI (esbuild)"
  node scripts/gen-kernels.mjs
  node --input-type=module -e "
    import * as esbuild from 'esbuild';
    await esbuild.build({
      stdin: { contents: \"import { main } from './src/cli/main.ts'; process.exitCode = await main(process.argv.slice(2));\", resolveDir: '.', loader: 'ts', sourcefile: 'gpu-check-entry.ts' },
      bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: '.gpu-check/tessera.mjs', external: ['webgpu'],
      banner: { js: \"import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);\" },
      logLevel: 'warning',
    });"
  echo "[prepare] Vulkan loader (libvulkan1, amd64)"
  local o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/gpu-check-apt-lists)
  mkdir -p /tmp/gpu-check-apt-lists/partial
  if [ ! -s /tmp/gpu-check-apt-lists/lock ] && ! ls /tmp/gpu-check-apt-lists/*Packages* >/dev/null 2>&1; then apt-get "${o[@]}" update -qq; fi
  (cd "$G/debs" && apt-get "${o[@]}" download libvulkan1 >/dev/null)
  local shared="$ROOT/../shared"
  if [ -d "$shared/golden" ]; then
    cp "$shared/tools/check-cases.sh" "$G/tools/"
    for d in "$shared"/golden/*/; do
      n=$(basename "$d"); [ -f "$d/case.json" ] || continue
      # cases of the CLI subcommands the bundle runs; the reference files travel with them
      cp -r --no-preserve=mode "$d" "$G/golden/$n"
    done
  else
    echo "[prepare] no ../shared/golden: the golden cases are skipped there"
  fi
  cp scripts/gpu-check-report.mjs "$G/"
  rm -f "$G/node_modules/webgpu/dist/linux-x64/dawn.node"   # only the .xz travels
  local size tree
  size=$(du -sb "$G" | cut -f1)
  tree=$( (git ls-files -z; git ls-files -z --others --exclude-standard) | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
  echo "[prepare] .gpu-check $((size / 1048576)) MiB + working tree $((tree / 1048576)) MiB (limit 64 MiB together)"
  [ $((size + tree)) -lt $((64 * 1048576)) ] || { echo "gpu-check: over 64 MiB"; exit 1; }
}

run() {
  local quick=0
  [ "${1:-}" = "--quick" ] && quick=1
  OUT="${OUT:-$ROOT/out/gpu-check}"
  mkdir -p "$OUT"
  # Work elsewhere: the device returns at most 8 files from $OUT, so it gets gpu-check.md,
  # steps.txt, log.txt and one archive of everything (per-step outputs, JSON, the tuning cache).
  local W=/tmp/gpu-check-work
  rm -rf "$W" && mkdir -p "$W"
  local start=$SECONDS
  [ -d "$G" ] || { echo "gpu-check: no .gpu-check/ here: run scripts/gpu-check.sh prepare first (and carry .gpu-check)"; exit 1; }
  # The loader, when the machine has none (dpkg -x into / as the device notes say).
  if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; then
    for f in "$G"/debs/*.deb; do dpkg -x "$f" / ; done
    ldconfig
  fi
  local nv=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  if [ -f "$nv" ] && [ -z "${VK_DRIVER_FILES:-}" ] && ! ls /usr/share/vulkan/icd.d/nvidia* /etc/vulkan/icd.d/nvidia* >/dev/null 2>&1; then export VK_DRIVER_FILES=$nv; fi
  # Unpacked outside the checkout: node, the bundle and webgpu (Dawn) beside it for ESM resolution.
  local R=/tmp/gpu-check-node NODE
  mkdir -p "$R/node_modules/webgpu/dist/linux-x64"
  if [ -f "$G/node.xz" ]; then
    NODE=$R/node
    [ "$NODE" -nt "$G/node.xz" ] || { xz -dc "$G/node.xz" >"$NODE" && chmod +x "$NODE"; }
  else NODE=$(command -v node); fi
  cp "$G/tessera.mjs" "$R/"
  cp "$G/node_modules/webgpu/index.js" "$G/node_modules/webgpu/package.json" "$R/node_modules/webgpu/"
  local dn="$R/node_modules/webgpu/dist/linux-x64/dawn.node"
  [ "$dn" -nt "$G/node_modules/webgpu/dist/linux-x64/dawn.node.xz" ] || xz -dc "$G/node_modules/webgpu/dist/linux-x64/dawn.node.xz" >"$dn"
  export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}" XDG_CACHE_HOME="$W/cache"
  mkdir -p "$XDG_CACHE_HOME"
  local T=("$NODE" "$R/tessera.mjs")
  # step NAME SECONDS CMD...: runs with a time limit, stdout to $W/NAME.out (last line: NAME.json), stderr to $W/log.txt
  step() {
    local name=$1 secs=$2; shift 2
    local left=$((470 - (SECONDS - start)))
    [ "$left" -gt 20 ] || { echo "$name SKIPPED (time budget spent)" | tee -a "$W/steps.txt"; return; }
    [ "$secs" -lt "$left" ] || secs=$left
    echo "== $name ($*) [limit ${secs}s]" | tee -a "$W/log.txt"
    local t0=$SECONDS
    timeout "$secs" "$@" >"$W/$name.out" 2>>"$W/log.txt"
    local rc=$?
    tail -n 1 "$W/$name.out" >"$W/$name.json" 2>/dev/null
    echo "$name rc=$rc $((SECONDS - t0))s" | tee -a "$W/steps.txt"
  }
  : >"$W/steps.txt"
  : >"$W/log.txt"
  nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader >"$W/nvidia-smi.txt" 2>/dev/null || echo "no nvidia-smi" >"$W/nvidia-smi.txt"
  step info 60 "${T[@]}" info --json
  if [ $quick = 1 ]; then
    step tune 300 "${T[@]}" tune --quick --json
    step ceiling 120 "${T[@]}" bench ceiling --json --repeats 3
    step gemm_variants 300 "${T[@]}" bench gemm --m 256 --k 1152 --n 1152 --variants all --json --repeats 3 --warmup 1 --no-ceiling
    step suite 300 "${T[@]}" bench suite --quick --json --repeats 3 --no-wall
    step attention_4k 300 "${T[@]}" bench attention --heads 2 --tokens 256 --head-dim 64 --json --repeats 2 --no-wall --no-ceiling
    step wan_step 200 "${T[@]}" bench model --preset wan-tiny --json --repeats 1 --no-wall --no-ceiling
  else
    # caps in seconds; the whole run stops starting steps at 470 s
    step tune 45 "${T[@]}" tune --json --rounds 3
    step ceiling 20 "${T[@]}" bench ceiling --json --repeats 5
    step gemm_variants 30 "${T[@]}" bench gemm --m 4096 --k 1152 --n 1152 --variants all --json --repeats 10 --warmup 2
    step gemm_variants_f16 25 "${T[@]}" bench gemm --m 4096 --k 1152 --n 1152 --variants all --json --repeats 10 --warmup 2 --dtype f16
    step suite 40 "${T[@]}" bench suite --json --repeats 10 --no-wall
    step attention_4k 20 "${T[@]}" bench attention --heads 12 --tokens 4096 --head-dim 128 --json --repeats 5 --no-wall --no-ceiling
    step attention_32k 40 "${T[@]}" bench attention --heads 12 --tokens 32760 --head-dim 128 --json --repeats 2 --warmup 1 --no-wall --no-ceiling
    step block_4k 25 "${T[@]}" bench block --hidden 1536 --heads 12 --tokens 4096 --mlp-ratio 5.8333 --json --repeats 3 --no-wall --no-ceiling
    # 4 forwards (the model check's 3, then 1 timed); on a slow attention this step runs out of time and says so
    step wan_480p 140 "${T[@]}" bench model --preset wan-1.3b --dtype f16 --frames 21 --height 60 --width 104 --json --repeats 1 --warmup 0 --no-wall --no-ceiling
  fi
  # Golden cases, through the shared checker with `npx tessera` pointing at the bundle.
  if [ -x "$G/tools/check-cases.sh" ] && ls "$G"/golden/*/case.json >/dev/null 2>&1 && python3 -c 'import numpy' 2>/dev/null; then
    mkdir -p /tmp/gpu-check-bin
    printf '#!/usr/bin/env bash\n[ "$1" = --no-install ] && shift\n[ "$1" = tessera ] && shift\nexec "%s" "%s" "$@"\n' "$NODE" "$R/tessera.mjs" >/tmp/gpu-check-bin/npx
    chmod +x /tmp/gpu-check-bin/npx
    local cases=("$G"/golden/*/)
    [ $quick = 1 ] && cases=("$G"/golden/dit_small/ "$G"/golden/wan_small/)
    step golden 150 env PATH="/tmp/gpu-check-bin:$PATH" CASE_TIMEOUT=100 bash "$G/tools/check-cases.sh" "${cases[@]}"
  else
    echo "golden SKIPPED (no cases, checker or numpy)" | tee -a "$W/steps.txt"
  fi
  "$NODE" "$G/gpu-check-report.mjs" "$W" "$( [ $quick = 1 ] && echo quick || echo full )" >"$W/gpu-check.md"
  cp "$W/gpu-check.md" "$W/steps.txt" "$W/log.txt" "$OUT/"
  tar -czf "$OUT/gpu-check-raw.tar.gz" -C "$W" .
  echo "gpu-check: $((SECONDS - start)) s; $OUT/gpu-check.md (+ steps.txt, log.txt, gpu-check-raw.tar.gz)"
  cat "$OUT/gpu-check.md"
}

collect() {
  local d="${1:?usage: scripts/gpu-check.sh collect DIR (the folder holding gpu-check.md)}"
  [ -f "$d/gpu-check.md" ] || { echo "gpu-check: no $d/gpu-check.md"; exit 1; }
  { echo; cat "$d/gpu-check.md"; } >>bench/RESULTS.md
  echo "appended $d/gpu-check.md to bench/RESULTS.md"
}

case "$mode" in
  prepare) prepare ;;
  run) run "$@" ;;
  collect) collect "$@" ;;
  *) sed -n '2,22p' "$0"; exit 2 ;;
esac
