#!/usr/bin/env bash
# Installs, starts, stops and reports the real infrastructure servers as plain processes
# (no Docker engine on these machines): Kafka (KRaft), FerretDB (MongoDB wire, SQLite),
# versitygw (S3) and stripe-mock.
#
#   infra/local/servers.sh install|start|stop|reset|status|env [server ...]
#
# reset stops the profile's servers and deletes their data (make test starts from it).
#
# Builds and downloads go to a per-user cache outside the clone (STUDIO_CACHE) keyed by
# version, so a fresh clone on the same machine reuses them. Data, logs and pid files go
# to .local/<profile>/ inside the clone. STUDIO_PROFILE=run (default), =test and =bench use
# different ports and data, so `make test` never touches a `make run` stack.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

KAFKA_VERSION=4.1.1
FERRETDB_VERSION=1.24.2
VERSITYGW_VERSION=1.7.0
STRIPE_MOCK_VERSION=0.203.0

cache=${STUDIO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/studio-platform}
profile=${STUDIO_PROFILE:-run}
# Every default port is below Linux's ephemeral range (32768 and up), where outgoing
# connections take their local ports and could block a server's bind.
case "$profile" in
  run) ports=(9092 9093 27017 7070 12111 12112) ;;
  test) ports=(19092 19093 17017 17070 22111 22112) ;;
  bench) ports=(19192 19193 17117 17170 22211 22212) ;;
  *) echo "servers.sh: STUDIO_PROFILE must be 'run', 'test' or 'bench', not '$profile'." >&2; exit 2 ;;
esac
state=${STUDIO_STATE_DIR:-$repo/.local/$profile}

KAFKA_PORT=${STUDIO_KAFKA_PORT:-${ports[0]}}
KAFKA_CONTROLLER_PORT=${STUDIO_KAFKA_CONTROLLER_PORT:-${ports[1]}}
MONGO_PORT=${STUDIO_MONGO_PORT:-${ports[2]}}
S3_PORT=${STUDIO_S3_PORT:-${ports[3]}}
STRIPE_HTTP_PORT=${STUDIO_STRIPE_HTTP_PORT:-${ports[4]}}
STRIPE_HTTPS_PORT=${STUDIO_STRIPE_HTTPS_PORT:-${ports[5]}}
# Loopback-only servers; these keys protect nothing beyond this machine.
S3_ACCESS_KEY=${STUDIO_S3_ACCESS_KEY:-studio-local}
S3_SECRET_KEY=${STUDIO_S3_SECRET_KEY:-studio-local-secret}

all_servers=(mongo kafka s3 stripe)

say() { printf '%s\n' "$*"; }
die() { printf 'servers.sh: %s\n' "$*" >&2; exit 1; }

need_tool() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' is not installed; $2"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

go_env() {
  need_tool go "install Go 1.23 or newer (Debian: apt-get install golang) and run again."
  export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-modcacherw
  export GOMODCACHE="$cache/go/mod" GOCACHE="$cache/go/build"
}

# --- install ---------------------------------------------------------------

kafka_home="$cache/kafka-$KAFKA_VERSION"
ferretdb_src_hash() { cat "$here"/ferretdb/*.go "$here/ferretdb/go.mod" "$here/ferretdb/go.sum" | sha256sum | cut -c1-12; }
ferretdb_bin() { echo "$cache/bin/ferretdb-sqlite-$FERRETDB_VERSION-$(ferretdb_src_hash)"; }
versitygw_bin="$cache/bin/versitygw-$VERSITYGW_VERSION/versitygw"
stripe_bin="$cache/bin/stripe-mock-$STRIPE_MOCK_VERSION/stripe-mock"

install_kafka() {
  local stamp; stamp="$kafka_home/.complete-$(sha256sum "$here/kafka/pom.xml" | cut -c1-12)"
  [ -f "$stamp" ] && return 0
  need_tool java "install a Java 17+ runtime (Debian: apt-get install openjdk-17-jre-headless) and run again."
  need_tool mvn "install Maven (Debian: apt-get install maven) and run again."
  say "installing Kafka $KAFKA_VERSION jars from Maven Central into $kafka_home ..."
  rm -rf "$kafka_home/libs"
  mvn -B -q -Dstyle.color=never -f "$here/kafka/pom.xml" -Dmaven.repo.local="$cache/m2" \
    -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$kafka_home/libs"
  rm -f "$kafka_home"/.complete-*
  touch "$stamp"
}

install_mongo() {
  local bin; bin=$(ferretdb_bin)
  [ -x "$bin" ] && return 0
  go_env
  say "building FerretDB $FERRETDB_VERSION (SQLite backend) into $bin ..."
  mkdir -p "$(dirname "$bin")"
  (cd "$here/ferretdb" && go build -trimpath -o "$bin.tmp" . && mv "$bin.tmp" "$bin")
}

install_go_tool() { # binary-path module@version
  [ -x "$1" ] && return 0
  go_env
  say "building $2 into $(dirname "$1") ..."
  mkdir -p "$(dirname "$1")"
  GOBIN="$(dirname "$1")" go install "$2"
}

install_s3() { install_go_tool "$versitygw_bin" "github.com/versity/versitygw/cmd/versitygw@v$VERSITYGW_VERSION"; }
install_stripe() { install_go_tool "$stripe_bin" "github.com/stripe/stripe-mock@v$STRIPE_MOCK_VERSION"; }

# --- start / stop ------------------------------------------------------------

pidfile() { echo "$state/pids/$1.pid"; }

running() {
  local f; f=$(pidfile "$1")
  [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null
}

ports_of() {
  case "$1" in
    kafka) echo "$KAFKA_PORT $KAFKA_CONTROLLER_PORT" ;;
    mongo) echo "$MONGO_PORT" ;;
    s3) echo "$S3_PORT" ;;
    stripe) echo "$STRIPE_HTTP_PORT $STRIPE_HTTPS_PORT" ;;
  esac
}

launch() { # name command...
  local name=$1; shift
  mkdir -p "$state/pids" "$state/logs"
  # setsid: the server outlives this script and is not hit by the caller's Ctrl-C.
  setsid "$@" >>"$state/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$(pidfile "$name")"
}

wait_until() { # name seconds check-command...
  local name=$1 seconds=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    if ! running "$name"; then
      tail -n 20 "$state/logs/$name.log" >&2 || true
      die "$name exited during start-up; its log is $state/logs/$name.log"
    fi
    [ $SECONDS -ge $deadline ] && die "$name did not become ready within ${seconds}s; see $state/logs/$name.log"
    sleep 0.3
  done
}

start_kafka() {
  local dir="$state/kafka"
  mkdir -p "$dir/data" "$state/logs/kafka"
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
EOF
  local java_opts=(-Xms256m -Xmx512m -XX:+UseG1GC
    "-Dlog4j2.configurationFile=file:$here/kafka/log4j2.properties"
    "-Dkafka.logs.dir=$state/logs/kafka")
  if [ ! -f "$dir/cluster-id" ]; then
    # 16 random bytes as base64url without padding: the 22-character id KRaft expects.
    head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$dir/cluster-id"
  fi
  java "${java_opts[@]}" -cp "$kafka_home/libs/*" kafka.tools.StorageTool format \
    -t "$(cat "$dir/cluster-id")" -c "$dir/server.properties" --ignore-formatted \
    >>"$state/logs/kafka.log" 2>&1 || die "formatting Kafka storage failed; see $state/logs/kafka.log"
  : >"$state/logs/kafka/server.log"
  launch kafka java "${java_opts[@]}" -cp "$kafka_home/libs/*" kafka.Kafka "$dir/server.properties"
  wait_until kafka 90 kafka_ready
}
kafka_ready() { grep -q 'Kafka Server started' "$state/logs/kafka/server.log" 2>/dev/null && port_open "$KAFKA_PORT"; }

start_mongo() {
  launch mongo "$(ferretdb_bin)" -listen "127.0.0.1:$MONGO_PORT" -dir "$state/mongo"
  wait_until mongo 30 port_open "$MONGO_PORT"
}

start_s3() {
  mkdir -p "$state/s3/data" "$state/s3/meta"
  ROOT_ACCESS_KEY="$S3_ACCESS_KEY" ROOT_SECRET_KEY="$S3_SECRET_KEY" \
    launch s3 "$versitygw_bin" --port "127.0.0.1:$S3_PORT" posix --sidecar "$state/s3/meta" "$state/s3/data"
  wait_until s3 30 http_answers "http://127.0.0.1:$S3_PORT/"
}

start_stripe() {
  launch stripe "$stripe_bin" -http-addr "127.0.0.1:$STRIPE_HTTP_PORT" -https-addr "127.0.0.1:$STRIPE_HTTPS_PORT"
  wait_until stripe 30 http_answers "http://127.0.0.1:$STRIPE_HTTP_PORT/v1/customers" -H "Authorization: Bearer sk_test_local"
}

http_answers() { # any HTTP status at all means the server is up
  local code; code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@" || true)
  [ -n "$code" ] && [ "$code" != 000 ]
}

start_one() {
  local name=$1 port
  "install_$name"
  if running "$name"; then say "$name: already running (pid $(cat "$(pidfile "$name")"))"; return 0; fi
  for port in $(ports_of "$name"); do
    port_open "$port" && die "port $port for $name is already taken by another process; stop it or set STUDIO_${name^^}_PORT (see infra/local/servers.sh)."
  done
  "start_$name"
  say "$name: ready on 127.0.0.1:$(ports_of "$name" | cut -d' ' -f1)"
}

stop_one() {
  local name=$1 f pid
  f=$(pidfile "$name")
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    say "$name: stopped"
  fi
  rm -f "$f"
}

write_env() {
  mkdir -p "$state"
  cat >"$state/env" <<EOF
STUDIO_PROFILE=$profile
STUDIO_MONGO_URL=mongodb://127.0.0.1:$MONGO_PORT
STUDIO_KAFKA_BOOTSTRAP=127.0.0.1:$KAFKA_PORT
STUDIO_S3_ENDPOINT_URL=http://127.0.0.1:$S3_PORT
STUDIO_S3_ACCESS_KEY=$S3_ACCESS_KEY
STUDIO_S3_SECRET_KEY=$S3_SECRET_KEY
BOOKING_STRIPE_API_BASE=http://127.0.0.1:$STRIPE_HTTP_PORT
EOF
}

cmd=${1:-status}; shift || true
servers=("$@"); [ ${#servers[@]} -eq 0 ] && servers=("${all_servers[@]}")
for s in "${servers[@]}"; do
  case " ${all_servers[*]} " in *" $s "*) ;; *) die "unknown server '$s' (known: ${all_servers[*]})" ;; esac
done

case "$cmd" in
  install) for s in "${servers[@]}"; do "install_$s"; done ;;
  start) write_env; for s in "${servers[@]}"; do start_one "$s"; done ;;
  stop) for s in "${servers[@]}"; do stop_one "$s"; done ;;
  status)
    for s in "${servers[@]}"; do
      if running "$s"; then say "$s: running (pid $(cat "$(pidfile "$s")"))"; else say "$s: stopped"; fi
    done ;;
  reset)
    for s in "${servers[@]}"; do stop_one "$s"; done
    for s in "${servers[@]}"; do rm -rf "${state:?}/$s" "${state:?}/logs/$s.log" "${state:?}/logs/$s"; done ;;
  env) write_env; cat "$state/env" ;;
  *) die "unknown command '$cmd' (install|start|stop|reset|status|env)" ;;
esac
