#!/usr/bin/env bash
# Starts, stops and reports the Python processes of the platform on 127.0.0.1.
#
#   infra/local/services.sh start|stop|status [service ...]
#
# Each runs as `python -m <service>` from the workspace's virtualenv with the server
# addresses that servers.sh wrote to .local/<profile>/env, plus `python -m <service>.consumers`
# and `python -m <service>.worker` where the service has those modules (background processes
# without HTTP). start waits until every service answers /readyz with 200; a process already
# running is left as it is.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
profile=${STUDIO_PROFILE:-run}
state=${STUDIO_STATE_DIR:-$repo/.local/$profile}
python=${STUDIO_PYTHON:-$repo/.venv/bin/python}

# Start order: the gateway after the services, since its readiness includes every other
# service's; the web app last, since it calls only the gateway.
all_services=(booking workflow render delivery maps notify gateway web)

port_of() {
  case "$1" in
    gateway) echo "${GATEWAY_PORT:-8000}" ;;
    booking) echo "${BOOKING_PORT:-8001}" ;;
    workflow) echo "${WORKFLOW_PORT:-8002}" ;;
    render) echo "${RENDER_PORT:-8003}" ;;
    delivery) echo "${DELIVERY_PORT:-8004}" ;;
    maps) echo "${MAPS_PORT:-8005}" ;;
    notify) echo "${NOTIFY_PORT:-8007}" ;;
    web) echo "${WEB_PORT:-8080}" ;;
  esac
}

die() { printf 'services.sh: %s\n' "$*" >&2; exit 1; }
pidfile() { echo "$state/pids/service-$1.pid"; }
running() { local f; f=$(pidfile "$1"); [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

src_of() {
  case "$1" in
    gateway|web) echo "$repo/$1/src/$1" ;;
    *) echo "$repo/services/$1/src/$1" ;;
  esac
}

# The background processes of a service: the modules among consumers/worker that it has.
background_of() {
  local m; for m in consumers worker; do [ -f "$(src_of "$1")/$m.py" ] && echo "$1.$m"; done; return 0
}

spawn() { # process-name module
  mkdir -p "$state/pids" "$state/logs"
  setsid "$python" -m "$2" >>"$state/logs/$1.log" 2>&1 </dev/null &
  echo $! >"$(pidfile "$1")"
}

start_one() {
  local name=$1 port module; port=$(port_of "$name")
  if running "$name"; then
    echo "$name: already running on 127.0.0.1:$port"
  else
    port_open "$port" && die "port $port for $name is already taken by another process; stop it or set ${name^^}_PORT."
    spawn "$name" "$name"
  fi
  for module in $(background_of "$name"); do
    running "$module" || spawn "$module" "$module"
  done
}

check_background() {
  local module; for module in $(background_of "$1"); do
    running "$module" || { tail -n 20 "$state/logs/$module.log" >&2 || true; die "$module exited; its log is $state/logs/$module.log"; }
  done; return 0
}

wait_ready() {
  local name=$1 port deadline code; port=$(port_of "$name"); deadline=$((SECONDS + 60))
  while :; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/readyz" || true)
    [ "$code" = 200 ] && return 0
    if ! running "$name"; then
      tail -n 20 "$state/logs/$name.log" >&2 || true
      die "$name exited during start-up; its log is $state/logs/$name.log"
    fi
    [ $SECONDS -ge $deadline ] && die "$name is not ready after 60 s (last /readyz: $code); see $state/logs/$name.log"
    sleep 0.3
  done
}

stop_one() {
  local name=$1 f pid; f=$(pidfile "$name")
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    echo "$name: stopped"
  fi
  rm -f "$f"
}

cmd=${1:-status}; shift || true
services=("$@"); [ ${#services[@]} -eq 0 ] && services=("${all_services[@]}")

case "$cmd" in
  start)
    [ -f "$state/env" ] || die "no $state/env; start the servers first (infra/local/servers.sh start)."
    [ -x "$python" ] || die "no virtualenv at $repo/.venv; run 'make install' first."
    set -a; . "$state/env"; set +a
    # The links booking writes for clients (cancel, reschedule, back from paying) open the
    # web app's pages; the delivery links are the gateway's.
    export BOOKING_PUBLIC_BASE_URL=${BOOKING_PUBLIC_BASE_URL:-http://127.0.0.1:$(port_of web)}
    # The services refuse calls that the gateway or a peer did not sign (kit/internal_auth.py),
    # with a secret made once per state folder.
    if [ -z "${STUDIO_INTERNAL_SECRET:-}" ]; then
      [ -s "$state/internal-secret" ] || (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$state/internal-secret")
      STUDIO_INTERNAL_SECRET=$(cat "$state/internal-secret")
    fi
    export STUDIO_INTERNAL_SECRET STUDIO_INTERNAL_AUTH=${STUDIO_INTERNAL_AUTH:-true}
    # Notify signs its unsubscribe links with a key made the same way (kept, so the links of
    # emails already sent still work after a restart); without one it sends no marketing.
    if [ -z "${NOTIFY_UNSUBSCRIBE_SECRET:-}" ]; then
      [ -s "$state/notify-unsubscribe-secret" ] || (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$state/notify-unsubscribe-secret")
      NOTIFY_UNSUBSCRIBE_SECRET=$(cat "$state/notify-unsubscribe-secret")
    fi
    export NOTIFY_UNSUBSCRIBE_SECRET
    for s in "${services[@]}"; do
      [ "$s" = gateway ] && for u in "${services[@]}"; do [ "$u" = gateway ] || [ "$u" = web ] || wait_ready "$u"; done
      start_one "$s"
    done
    for s in "${services[@]}"; do wait_ready "$s"; done
    for s in "${services[@]}"; do check_background "$s"; done
    for s in "${services[@]}"; do
      [ "$s" = web ] && continue
      printf '%-9s http://127.0.0.1:%s  (docs: /docs, ready: /readyz)\n' "$s" "$(port_of "$s")"
    done ;;
  stop)
    for (( i=${#services[@]}-1; i>=0; i-- )); do
      for module in $(background_of "${services[$i]}"); do stop_one "$module"; done
      stop_one "${services[$i]}"
    done ;;
  status)
    for s in "${services[@]}"; do
      if running "$s"; then echo "$s: running on 127.0.0.1:$(port_of "$s")"; else echo "$s: stopped"; fi
      for module in $(background_of "$s"); do
        if running "$module"; then echo "$module: running"; else echo "$module: stopped"; fi
      done
    done ;;
  *) die "unknown command '$cmd' (start|stop|status)" ;;
esac
