#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian machine with node and npm (run as root):
# Debian packages the tests and benchmarks start for real, then the npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

# build-essential, python3 and libxxhash-dev build the native addon (node-gyp, Debian's xxHash);
# libucx-dev gives it UCX's headers (the KV transfer agent opens libucp at run time) and libucp itself;
# chromium renders the bench HTML report in a test; tmux gives `dynamo top` a real terminal in its tests;
# etcd-server is the discovery store across hosts (etcd-client: etcdctl, which the tests read it with), nats-server the optional event plane (each
# started by `dynamo up` when asked for, and by the tests); git and cmake build llama.cpp for the
# llamacpp engine (scripts/build-llama.mjs).
DEBIAN_PACKAGES=(openssh-server openssh-client nginx-light build-essential python3 libxxhash-dev libucx-dev chromium tmux etcd-server etcd-client nats-server git cmake)
missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "setup: installing npm dependencies" >&2
npm ci --no-audit --no-fund --loglevel=error

echo "setup: building the native addons" >&2
node scripts/build-native.mjs
node scripts/build-llama.mjs
