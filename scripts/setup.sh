#!/usr/bin/env bash
# tessera set-up: make this machine able to run WebGPU (Dawn via the npm `webgpu` package).
# Idempotent. Does nothing to the system when Dawn already finds an adapter.
#   - npm packages (npm ci when node_modules is missing or stale)
#   - Mesa lavapipe (software Vulkan) from bookworm-backports when no adapter is found:
#     Debian 12's own Mesa 22.3 is refused by Dawn ("shaderUniform*ArrayDynamicIndexing required").
#   - ffmpeg (Debian package) when missing: H.264 MP4 output (`generate --video`).
#   - Chromium (Debian package) when TESSERA_SETUP_BROWSER=1 (browser tests, profiler demo).
set -euo pipefail
cd "$(dirname "$0")/.."
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
say() { echo "[setup] $*"; }
SUDO=""; [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO="sudo"

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages (npm ci)"
  npm_log="$(mktemp)"
  trap 'rm -f "$npm_log"' EXIT
  npm ci --no-audit --no-fund 2>&1 | tee "$npm_log"
  # npm 11 warns of packages whose install scripts no allowScripts entry covers (esbuild, protobufjs, webgpu)
  if grep -q 'install-scripts' "$npm_log"; then
    say "npm's install-scripts warning above needs no action: tessera runs without those scripts (webgpu's postinstall acts only on macOS)"
  fi
else
  say "npm packages already installed"
fi

has_adapter() { node scripts/probe-adapter.mjs >/dev/null 2>&1; }
# the adapter's name; Dawn's two "maxDynamic…BuffersPerPipelineLayout artificially reduced" lines
# (printed from native code on Mesa's Vulkan drivers, nothing to act on) are dropped, as the CLI does
adapter_name() { node scripts/probe-adapter.mjs 2> >(grep -v 'BuffersPerPipelineLayout artificially reduced' >&2); }

apt_updated=0
apt_update() { if [ $apt_updated -eq 0 ]; then $SUDO apt-get update -qq; apt_updated=1; fi; }

if has_adapter; then
  say "WebGPU adapter found: $(adapter_name)"
else
  if ! command -v apt-get >/dev/null; then
    say "no WebGPU adapter and no apt-get: install a Vulkan driver (Mesa >= 24 lavapipe) by hand"; exit 1
  fi
  . /etc/os-release
  if [ "${VERSION_CODENAME:-}" = "bookworm" ]; then
    if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
      say "adding bookworm-backports to apt sources"
      echo "deb http://deb.debian.org/debian bookworm-backports main" | $SUDO tee /etc/apt/sources.list.d/tessera-backports.list >/dev/null
    fi
    apt_update
    say "installing mesa-vulkan-drivers + libvulkan1 from bookworm-backports (lavapipe)"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
  else
    apt_update
    say "installing mesa-vulkan-drivers + libvulkan1"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
  fi
  if has_adapter; then say "WebGPU adapter found: $(adapter_name)"; else
    say "still no WebGPU adapter after installing Mesa; run: node scripts/probe-adapter.mjs"; exit 1; fi
fi

# ffmpeg: `generate --video clip.mp4` encodes H.264 through it (Debian's package has libx264)
if command -v ffmpeg >/dev/null; then say "ffmpeg present: $(ffmpeg -hide_banner -version | head -n1)"; else
  if command -v apt-get >/dev/null; then
    apt_update
    say "installing ffmpeg (Debian package; --video MP4 output)"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends ffmpeg >/dev/null
  else
    say "no ffmpeg and no apt-get: --video needs ffmpeg on the PATH (install it by hand)"
  fi
fi

if [ "${TESSERA_SETUP_BROWSER:-0}" = "1" ]; then
  if [ -x /usr/bin/chromium ]; then say "chromium present: $(/usr/bin/chromium --version 2>/dev/null)"; else
    apt_update
    say "installing chromium (Debian package; browser tests)"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  fi
fi
say "done"
