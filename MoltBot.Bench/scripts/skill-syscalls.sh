#!/bin/bash
# Counts socket system calls on the warm skill path (docs/performance.md, session "skill6"): starts the server build
# DLL on 127.0.0.1:PORT with its own data directory, runs two warm-up loads, then counts the server's (perf stat on its
# PID) and the load generator's (perf stat around it) send/receive calls over one run of
#   $B load --scenario skill --connections 100 --messages 100   (10,000 messages)
# usage: skill-syscalls.sh DLL PORT [extra server arguments, e.g. --Gateway:AckHoldMilliseconds 0]
# Needs perf and a Release build of MoltBot.Bench; stops the server and removes its data at the end.
set -u
HERE=$(cd "$(dirname "$0")/../.." && pwd)
B=$HERE/MoltBot.Bench/bin/Release/net10.0/MoltBot.Bench
DLL=$1; PORT=$2; shift 2
d=$(mktemp -d /tmp/moltbot-syscalls.XXXXXX)
dotnet "$DLL" run --urls "http://127.0.0.1:$PORT" --Storage:DataDirectory "$d" --Gateway:RatePerSecond 10000 --Gateway:RateBurst 100000 "$@" > "$d.log" 2>&1 &
SP=$!
trap 'kill $SP 2>/dev/null; wait $SP 2>/dev/null; rm -rf "$d" "$d.log" "$d.server" "$d.gen"' EXIT
for _ in $(seq 600); do
  grep -q "listening on" "$d.log" 2>/dev/null && break
  kill -0 $SP 2>/dev/null || { echo "server exited; see $d.log" >&2; exit 1; }
  sleep 0.2
done
for _ in 1 2; do "$B" load --url "http://127.0.0.1:$PORT" --scenario skill --connections 100 --messages 100 > /dev/null 2>&1; done
EV='syscalls:sys_enter_sendmsg,syscalls:sys_enter_sendto,syscalls:sys_enter_recvfrom,syscalls:sys_enter_recvmsg'
perf stat -e "$EV" -p $SP -o "$d.server" &
PP=$!
sleep 0.5
perf stat -e "$EV" -o "$d.gen" -- "$B" load --url "http://127.0.0.1:$PORT" --scenario skill --connections 100 --messages 100 | grep '^| skill'
kill -INT $PP; wait $PP 2>/dev/null
echo "server:"; grep syscalls "$d.server"
echo "generator (whole process):"; grep syscalls "$d.gen"
