#!/usr/bin/env bash
# Installs the SDK toolchains from Debian packages (idempotent: only what is missing) and runs the Python,
# Java and Go SDK test suites, each against a real MoltBot started from the built host
# (MoltBot/bin/Debug/net10.0/moltbot.dll; built here if it is missing).
#
#   sdk/run-tests.sh              install what is missing (needs root), then run all three suites
#   sdk/run-tests.sh --no-install only run (fails with the list of missing packages)
#   sdk/run-tests.sh python go    run only some suites
#
# Offline: Maven runs with -o from Debian's /usr/share/maven-repo, Go in GOPATH mode with the Debian-packaged
# gorilla/websocket (no module proxy), Python with Debian's python3-websockets.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
export MOLTBOT_REPO="$repo" DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

install=1
suites=()
for arg in "$@"; do
  case "$arg" in
    --no-install) install=0 ;;
    python|java|go) suites+=("$arg") ;;
    *) echo "sdk/run-tests.sh: unknown argument '$arg' (use --no-install, python, java, go)" >&2; exit 2 ;;
  esac
done
[[ ${#suites[@]} -eq 0 ]] && suites=(python java go)

packages=(python3 python3-websockets
          golang-go golang-github-gorilla-websocket-dev
          openjdk-17-jdk-headless maven libmaven-resources-plugin-java libmaven-compiler-plugin-java
          libsurefire-java libmaven-jar-plugin-java junit5)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  if [[ $install -eq 0 || $(id -u) -ne 0 ]]; then
    echo "sdk/run-tests.sh: missing Debian packages: ${missing[*]} (install them as root: apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "sdk: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
fi

if [[ ! -f MoltBot/bin/Debug/net10.0/moltbot.dll ]]; then
  echo "sdk: building the MoltBot host"
  dotnet build MoltBot -nologo -clp:ErrorsOnly
fi

declare -A result
status=0
log=$(mktemp)
trap 'rm -f "$log"; [[ -n "${gopath:-}" ]] && rm -rf "$gopath"' EXIT

run_python() {
  (cd sdk/python && /usr/bin/python3 -m unittest discover -s tests -t . -v) 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local ran failed
  ran=$(grep -Eo '^Ran [0-9]+' "$log" | awk '{print $2}' | tail -n 1)
  failed=$(grep -Ec '^(FAIL|ERROR): ' "$log" || true)
  result[python]="Passed: $(( ${ran:-0} - failed )), Failed: $failed"
  return "$rc"
}

run_java() {
  rm -rf sdk/java/target # (Debian ships no maven-clean-plugin)
  (cd sdk/java && mvn -o -B -q -s maven-settings.xml -Dmoltbot.repo="$repo" test) 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local run=0 failed=0
  for report in sdk/java/target/surefire-reports/*.txt; do
    [[ -f "$report" ]] || continue
    read -r r f e < <(grep -Eo 'Tests run: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$report" | head -n 1 | grep -Eo '[0-9]+' | xargs)
    run=$(( run + r )); failed=$(( failed + f + e ))
  done
  result[java]="Passed: $(( run - failed )), Failed: $failed"
  return "$rc"
}

run_go() {
  # GOPATH mode: the SDK is linked into a temporary GOPATH next to Debian's /usr/share/gocode.
  gopath=$(mktemp -d)
  mkdir -p "$gopath/src/github.com/moltbot"
  ln -s "$repo/sdk/go" "$gopath/src/github.com/moltbot/moltbot-go"
  (cd "$gopath/src/github.com/moltbot/moltbot-go" \
    && export GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" GOFLAGS= GOPROXY=off \
    && go vet ./... && go build -o /dev/null ./examples/chat && go test -count=1 -v ./moltbot/) 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  result[go]="Passed: $(grep -Ec '^--- PASS' "$log" || true), Failed: $(grep -Ec '^--- FAIL' "$log" || true)"
  return "$rc"
}

for suite in "${suites[@]}"; do
  echo "sdk: === $suite ==="
  if "run_$suite"; then :; else status=1; result[$suite]="${result[$suite]:-} (exit code non-zero)"; fi
done

echo "sdk: summary"
for suite in "${suites[@]}"; do echo "sdk/$suite: ${result[$suite]}"; done
exit "$status"
