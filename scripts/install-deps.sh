#!/usr/bin/env bash
# Installs the Debian packages svmdbg needs to build, test and read trace.dat files
# (trace-cmd and linux-perf: the tool-variant tests produce report/perf script layouts with them).
# Runs as root (or through sudo when available); installs only what is missing.
set -euo pipefail
packages=(pkg-config libncurses-dev libtracecmd-dev libtraceevent-dev libtracefs-dev
          zlib1g-dev liblzma-dev xz-utils gzip tmux trace-cmd linux-perf)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]})) || exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "svmdbg: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
