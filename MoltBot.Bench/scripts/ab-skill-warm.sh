#!/bin/bash
# Interleaved A/B of two MoltBot builds on the warm skill path (docs/performance.md, "Skill path: LiteDB's
# per-message work"): both servers run side by side on their own loopback port and data directory, each gets
# WARM warm-up runs, then ROUNDS rounds alternate A B / B A of
#   $B load --url URL --scenario skill --connections 100 --messages 100
# and print throughput, p50/p99 and the server's own CPU per message (utime + stime from /proc/PID/stat).
# usage: ab-skill-warm.sh BEFORE_DLL AFTER_DLL [ROUNDS=3] [WARM=2]
#   extra server arguments per side: ARGS_A="--Memory:X 1" ARGS_B="--Memory:X 2" ab-skill-warm.sh D D
# Needs a Release build of MoltBot.Bench (dotnet build -c Release MoltBot.Bench); kills both servers and removes their data at the end (the server logs stay next to it, *.log).
set -u
HERE=$(cd "$(dirname "$0")/../.." && pwd)
B=$HERE/MoltBot.Bench/bin/Release/net10.0/MoltBot.Bench
DLL_A=$1; DLL_B=$2; ROUNDS=${3:-3}; WARM=${4:-2}
declare -A PID PORT ARGS DLL LOG DIR
PORT[A]=${PORT_A:-18441}; PORT[B]=${PORT_B:-18442}
ARGS[A]=${ARGS_A:-}; ARGS[B]=${ARGS_B:-}
DLL[A]=$DLL_A; DLL[B]=$DLL_B
for k in A B; do
  d=$(mktemp -d /tmp/moltbot-ab-$k.XXXXXX)
  LOG[$k]=$d.log; DIR[$k]=$d
  # shellcheck disable=SC2086
  dotnet "${DLL[$k]}" run --urls "http://127.0.0.1:${PORT[$k]}" --Storage:DataDirectory "$d" \
    --Gateway:RatePerSecond 10000 --Gateway:RateBurst 100000 ${ARGS[$k]} > "$d.log" 2>&1 &
  PID[$k]=$!
done
trap 'kill ${PID[A]} ${PID[B]} 2>/dev/null; wait 2>/dev/null; rm -rf "${DIR[A]}" "${DIR[B]}"' EXIT
for k in A B; do
  for _ in $(seq 120); do grep -q "listening on" "${LOG[$k]}" 2>/dev/null && break; sleep 1; done
done
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
run() {
  local k=$1 p=${PID[$1]} c0 c1 line
  c0=$(cpu "$p")
  line=$("$B" load --url "http://127.0.0.1:${PORT[$k]}" --scenario skill --connections 100 --messages 100 2>&1 | grep '^| skill' | head -1)
  c1=$(cpu "$p")
  echo "$k $(echo "$line" | awk -F'|' '{gsub(/ /,""); print "answered="$6" lost="$7" dup="$8" msg/s="$10" p50="$11" p99="$13}') server_cpu_ms_per_msg=$(awk -v a="$c0" -v b="$c1" -v t="$(getconf CLK_TCK)" 'BEGIN{printf "%.3f", (b-a)*1000/t/10000}') load=$(cut -d' ' -f1 /proc/loadavg)"
}
for _ in $(seq "$WARM"); do run A > /dev/null; run B > /dev/null; done
for i in $(seq "$ROUNDS"); do
  if (( i % 2 )); then run A; run B; else run B; run A; fi
done
