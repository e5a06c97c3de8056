#!/bin/bash
# Interleaved A/B of two MoltBot builds on the warm skill path (docs/performance.md, "Skill path: LiteDB's
# per-message work"): both servers run side by side on their own loopback port and data directory, each gets
# WARM warm-up runs, then ROUNDS rounds alternate A B / B A of
#   $B load --url URL --scenario skill --connections 100 --messages 100
# and print throughput, p50/p99 and the server's own CPU per message (utime + stime from /proc/PID/stat).
# usage: ab-skill-warm.sh BEFORE_DLL AFTER_DLL [ROUNDS=3] [WARM=2]
#   extra server arguments per side: ARGS_A="--Memory:X 1" ARGS_B="--Memory:X 2" ab-skill-warm.sh D D
#   a load generator per side (default: this checkout's): GEN_A=/old/MoltBot.Bench GEN_B=... ab-skill-warm.sh D1 D2
#   messages per user: MESSAGES=100 (CPU per message is divided by 100 × MESSAGES)
# Each line also gives the load generator's CPU per message: in its measuring window (first message to last reply) and
# for the whole process (start-up, report and plots included; /usr/bin/time).
# Server events per message (counted by `perf stat -p PID` over each measured run; needs perf), steadier than CPU time on
# a busy box: EVENTS=context-switches,syscalls:sys_enter_futex,syscalls:sys_enter_sched_yield ab-skill-warm.sh D1 D2
# Needs a Release build of MoltBot.Bench (dotnet build -c Release MoltBot.Bench); kills both servers and removes their data at the end (the server logs stay next to it, *.log).
set -u
HERE=$(cd "$(dirname "$0")/../.." && pwd)
B=$HERE/MoltBot.Bench/bin/Release/net10.0/MoltBot.Bench
DLL_A=$1; DLL_B=$2; ROUNDS=${3:-3}; WARM=${4:-2}
MESSAGES=${MESSAGES:-100}
declare -A PID PORT ARGS DLL LOG DIR GEN
PORT[A]=${PORT_A:-18441}; PORT[B]=${PORT_B:-18442}
ARGS[A]=${ARGS_A:-}; ARGS[B]=${ARGS_B:-}
DLL[A]=$DLL_A; DLL[B]=$DLL_B
GEN[A]=${GEN_A:-$B}; GEN[B]=${GEN_B:-$B}
for k in A B; do
  d=$(mktemp -d /tmp/moltbot-ab-$k.XXXXXX)
  LOG[$k]=$d.log; DIR[$k]=$d
  # shellcheck disable=SC2086
  dotnet "${DLL[$k]}" run --urls "http://127.0.0.1:${PORT[$k]}" --Storage:DataDirectory "$d" \
    --Gateway:RatePerSecond 10000 --Gateway:RateBurst 100000 ${ARGS[$k]} > "$d.log" 2>&1 &
  PID[$k]=$!
done
trap 'kill ${PID[A]} ${PID[B]} 2>/dev/null; wait 2>/dev/null; rm -rf "${DIR[A]}" "${DIR[B]}" "${DIR[A]}.perf" "${DIR[B]}.perf"' EXIT
for k in A B; do
  # Up to 120 s for "listening on" in its log; a server that exited stops the wait (its log says why).
  for _ in $(seq 600); do
    grep -q "listening on" "${LOG[$k]}" 2>/dev/null && break
    kill -0 "${PID[$k]}" 2>/dev/null || { echo "server $k exited; see ${LOG[$k]}" >&2; exit 1; }
    sleep 0.2
  done
done
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
EVENTS=${EVENTS:-}
run() {
  local k=$1 p=${PID[$1]} c0 c1 out line gen ev="" pp=""
  if [[ -n $EVENTS ]]; then
    perf stat -x, -e "$EVENTS" -p "$p" -o "${DIR[$k]}.perf" & pp=$!
    sleep 0.3
  fi
  c0=$(cpu "$p")
  out=$({ /usr/bin/time -f "GENCPU %U %S" "${GEN[$k]}" load --url "http://127.0.0.1:${PORT[$k]}" --scenario skill --connections 100 --messages "$MESSAGES"; } 2>&1)
  c1=$(cpu "$p")
  if [[ -n $pp ]]; then
    kill -INT "$pp"; wait "$pp" 2>/dev/null
    ev=$(awk -F, -v n=$((100 * MESSAGES)) '$3 != "" && $1 ~ /^[0-9]/ {sub(/^syscalls:sys_enter_/, "", $3); printf " %s/msg=%.3f", $3, $1/n}' "${DIR[$k]}.perf")
  fi
  line=$(echo "$out" | grep '^| skill' | head -1)
  gen=$(echo "$out" | awk -v n=$((100 * MESSAGES)) '$1=="GENCPU"{printf "%.3f", ($2+$3)*1000/n}')
  echo "$k $(echo "$line" | awk -F'|' '{gsub(/ /,""); print "answered="$6" lost="$7" dup="$8" msg/s="$10" p50="$11" p99="$13" generator_window_ms_per_msg="$19}') server_cpu_ms_per_msg=$(awk -v a="$c0" -v b="$c1" -v t="$(getconf CLK_TCK)" -v n=$((100 * MESSAGES)) 'BEGIN{printf "%.3f", (b-a)*1000/t/n}') generator_cpu_ms_per_msg=$gen$ev load=$(cut -d' ' -f1 /proc/loadavg)"
}
for _ in $(seq "$WARM"); do run A > /dev/null; run B > /dev/null; done
for i in $(seq "$ROUNDS"); do
  if (( i % 2 )); then run A; run B; else run B; run A; fi
done
