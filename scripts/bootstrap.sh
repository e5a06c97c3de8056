#!/usr/bin/env bash
# MoltBot's machine prerequisites. Safe to run again (idempotent).
#
#   scripts/bootstrap.sh                   native prerequisite of TorchSharp (libstdc++ with GLIBCXX_3.4.32)
#   scripts/bootstrap.sh --with-test-deps  also what the test suite needs (Debian's chromium for the web page test)
#
# TorchSharp 0.107's native library needs GLIBCXX_3.4.32 (libstdc++ from GCC 13+). Debian 12 ships GCC 12's.
# On Debian 12, as root, this installs libstdc++6 from Debian 13 with a low apt pin, so nothing else moves to
# Debian 13. The apt source is derived from the machine's own Debian 12 source (only the suite changes).
# On any other system it prints exactly what is missing and how to get it.
set -euo pipefail

with_test_deps=0
for arg in "$@"; do
  case "$arg" in
    --with-test-deps) with_test_deps=1 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "bootstrap: unknown argument '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

say() { echo "bootstrap: $*"; }
as_root() { if [[ $(id -u) == 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

libstdcxx() { ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}'; }
has_glibcxx() { local lib; lib=$(libstdcxx); [[ -n "$lib" ]] && grep -a -q 'GLIBCXX_3\.4\.32' "$lib"; }

apt_updated=0
apt_update() { if [[ $apt_updated == 0 ]]; then as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq; apt_updated=1; fi; }

install_libstdcxx_from_debian13() {
  local src=/etc/apt/sources.list.d/debian.sources
  local out=/etc/apt/sources.list.d/moltbot-debian13-libstdcxx.sources
  local entry=""
  if [[ -f $src ]]; then
    # The first deb822 stanza whose Suites include bookworm (the main archive), with the suite set to trixie.
    entry=$(awk 'BEGIN{RS=""; ORS="\n"} /Suites:[^\n]*bookworm( |$|\n|-updates)/ && !/security/ {print; exit}' "$src" \
      | grep -v '^#' | sed -e 's/^Suites:.*/Suites: trixie/')
  fi
  if [[ -z "$entry" && -f /etc/apt/sources.list ]]; then
    local uri
    uri=$(awk '$1=="deb" && $3=="bookworm" {print $2; exit}' /etc/apt/sources.list)
    [[ -n "$uri" ]] && entry=$(printf 'Types: deb\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri")
  fi
  if [[ -z "$entry" ]]; then
    say "no Debian 12 (bookworm) apt source found to derive a Debian 13 source from."
    say "install libstdc++6 from Debian 13 (trixie) or GCC 13+ yourself, then run this again."
    exit 1
  fi
  printf '%s\n' "$entry" | as_root tee "$out" >/dev/null
  printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' | as_root tee /etc/apt/preferences.d/moltbot-debian13-low >/dev/null
  apt_updated=0
  apt_update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t trixie --no-install-recommends libstdc++6 >/dev/null
}

# 1. libstdc++ for TorchSharp
if has_glibcxx; then
  say "libstdc++ provides GLIBCXX_3.4.32 ($(libstdcxx)): ok"
else
  . /etc/os-release 2>/dev/null || true
  if [[ "${ID:-}" == debian && "${VERSION_ID:-}" == 12 ]]; then
    if [[ $(id -u) != 0 ]] && ! command -v sudo >/dev/null; then
      say "missing GLIBCXX_3.4.32 in $(libstdcxx); run this script as root to install libstdc++6 from Debian 13."
      exit 1
    fi
    say "installing libstdc++6 from Debian 13 (pinned low, nothing else upgraded)..."
    install_libstdcxx_from_debian13
    has_glibcxx || { say "libstdc++6 from Debian 13 did not provide GLIBCXX_3.4.32"; exit 1; }
    say "libstdc++ now provides GLIBCXX_3.4.32 ($(libstdcxx))"
  else
    say "missing: libstdc++ with GLIBCXX_3.4.32 (GCC 13 or newer), needed by TorchSharp's native library."
    say "found: $(libstdcxx || echo none) on ${PRETTY_NAME:-an unknown system}."
    say "fix: install libstdc++6 from GCC 13+ (Ubuntu 24.04 and Debian 13 have it: apt-get install libstdc++6)."
    exit 1
  fi
fi

# 2. .NET SDK
if ! command -v dotnet >/dev/null; then
  say "missing: the .NET 10 SDK (dotnet). Install it from your distribution or Microsoft's packages."
  exit 1
fi

# 3. Test prerequisites
if [[ $with_test_deps == 1 ]]; then
  if [[ -x /usr/bin/chromium ]]; then
    say "chromium: ok"
  else
    say "installing Debian's chromium (for the web chat browser test)..."
    apt_update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
    say "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo 'installed')"
  fi
fi
say "done"
