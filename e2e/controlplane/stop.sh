#!/usr/bin/env bash
# stop.sh DIR: stops the control plane that start.sh DIR started. Signals only
# the PIDs listed in DIR/pids, and only while they still belong to this DIR
# (a file under DIR appears in their arguments), so a stale pids file never
# hits a recycled PID. Newest first, each TERM, then KILL after
# ${CP_STOP_TIMEOUT:-10}s.
# Idempotent: safe to run again, or when nothing was started.
set -euo pipefail

log() { printf '[controlplane] %s\n' "$*" >&2; }

[[ $# -eq 1 && -n $1 ]] || { echo "usage: $0 DIR" >&2; exit 2; }
if [[ ! -d $1 ]]; then log "stop: $1 does not exist; nothing to stop"; exit 0; fi
DIR=$(cd "$1" && pwd -P)
TIMEOUT=${CP_STOP_TIMEOUT:-10}

ours() {
  local pid=$1 a
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
  while IFS= read -r -d '' a; do
    [[ $a == "$DIR/"* || $a == *"=$DIR/"* ]] && return 0
  done < "/proc/$pid/cmdline" 2>/dev/null
  return 1
}

name_of() { local a=; IFS= read -r -d '' a < "/proc/$1/cmdline" 2>/dev/null || true; echo "${a##*/}"; }

pids=()
if [[ -f $DIR/pids ]]; then
  while read -r pid; do
    if ours "$pid"; then pids=("$pid" "${pids[@]}"); fi   # reverse start order
  done < "$DIR/pids"
fi
if (( ${#pids[@]} == 0 )); then log "stop: nothing running for $DIR"; exit 0; fi

# One at a time, newest first (controller manager, API server, etcd): the API
# server shuts down in about a second while etcd is up, but hangs in its
# graceful shutdown once etcd is gone.
for pid in "${pids[@]}"; do
  ours "$pid" || continue
  log "stop: TERM $pid ($(name_of "$pid"))"
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + TIMEOUT))
  while ours "$pid"; do
    if (( SECONDS >= deadline )); then
      log "stop: pid $pid still running after ${TIMEOUT}s, sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.1
  done
done
for pid in "${pids[@]}"; do
  if ours "$pid"; then log "stop: WARNING: pid $pid is still running"; exit 1; fi
done
log "stop: stopped ${#pids[@]} process(es)"
