#!/bin/bash
# chaos360 Cassandra 5.0 node: render cassandra.yaml + cassandra-rackdc.properties from the environment,
# then exec the JVM so that java is PID 1 (SIGKILL of PID 1 = a node crash).
# Any arguments are passed to CassandraDaemon's JVM as extra JVM options; "bash"/"sh"/an absolute path
# as first argument runs that command instead (debugging).
set -euo pipefail

case "${1:-}" in
  bash | sh | /*) exec "$@" ;;
esac

CASSANDRA_HOME="${CASSANDRA_HOME:-/opt/cassandra}"
CASSANDRA_CONF="${CASSANDRA_CONF:-/etc/cassandra}"
# shellcheck source=cassandra-jvm.sh
. "$CASSANDRA_HOME/bin/cassandra-jvm.sh"

own_ip() {
  local ip
  for ip in $(hostname -i 2>/dev/null); do
    case "$ip" in 127.* | ::1 | *:*) ;; *) echo "$ip"; return ;; esac
  done
  ip -4 -o addr show scope global | awk '{ sub(/\/.*/, "", $4); print $4; exit }'
}

# --- addresses, official-image variable names -----------------------------------------------------
: "${CASSANDRA_LISTEN_ADDRESS:=auto}"
[ "$CASSANDRA_LISTEN_ADDRESS" = auto ] && CASSANDRA_LISTEN_ADDRESS="$(own_ip)"
: "${CASSANDRA_BROADCAST_ADDRESS:=$CASSANDRA_LISTEN_ADDRESS}"
[ "$CASSANDRA_BROADCAST_ADDRESS" = auto ] && CASSANDRA_BROADCAST_ADDRESS="$(own_ip)"
: "${CASSANDRA_RPC_ADDRESS:=0.0.0.0}"
: "${CASSANDRA_BROADCAST_RPC_ADDRESS:=$CASSANDRA_BROADCAST_ADDRESS}"
: "${CASSANDRA_SEEDS:=$CASSANDRA_BROADCAST_ADDRESS}"
: "${CASSANDRA_CLUSTER_NAME:=Test Cluster}"
: "${CASSANDRA_DC:=dc1}"
: "${CASSANDRA_RACK:=rack1}"
: "${CASSANDRA_ENDPOINT_SNITCH:=GossipingPropertyFileSnitch}"
: "${CASSANDRA_INITIAL_TOKEN:=}"
: "${CASSANDRA_NUM_TOKENS:=16}"
: "${CASSANDRA_RING_DELAY_MS:=5000}"
: "${CASSANDRA_YAML_EXTRA:=}"
: "${MAX_HEAP_SIZE:=512M}"
: "${HEAP_NEWSIZE:=}"
: "${MAX_DIRECT_MEMORY_SIZE:=256M}"
: "${JVM_EXTRA_OPTS:=}"

if [ -n "$CASSANDRA_INITIAL_TOKEN" ]; then
  tokens="num_tokens: 1
initial_token: $CASSANDRA_INITIAL_TOKEN"
else
  tokens="num_tokens: $CASSANDRA_NUM_TOKENS
allocate_tokens_for_local_replication_factor: 3"
fi

# --- render the templates (@@NAME@@ -> value) -------------------------------------------------------
render() {
  local text name value
  text="$(<"$1")"
  shift
  while [ $# -gt 0 ]; do
    name="$1" value="$2"
    shift 2
    text="${text//"@@${name}@@"/"$value"}" # quoted: no pattern/& magic in names or values
  done
  printf '%s\n' "$text"
}

mkdir -p "$CASSANDRA_CONF"
render "$CASSANDRA_HOME/conf/cassandra.yaml.tmpl" \
  CLUSTER_NAME "${CASSANDRA_CLUSTER_NAME//\'/\'\'}" \
  ENDPOINT_SNITCH "$CASSANDRA_ENDPOINT_SNITCH" \
  TOKENS "$tokens" \
  SEEDS "$CASSANDRA_SEEDS" \
  LISTEN_ADDRESS "$CASSANDRA_LISTEN_ADDRESS" \
  BROADCAST_ADDRESS "$CASSANDRA_BROADCAST_ADDRESS" \
  RPC_ADDRESS "$CASSANDRA_RPC_ADDRESS" \
  BROADCAST_RPC_ADDRESS "$CASSANDRA_BROADCAST_RPC_ADDRESS" \
  EXTRA "$CASSANDRA_YAML_EXTRA" \
  >"$CASSANDRA_CONF/cassandra.yaml"
render "$CASSANDRA_HOME/conf/cassandra-rackdc.properties.tmpl" \
  DC "$CASSANDRA_DC" RACK "$CASSANDRA_RACK" \
  >"$CASSANDRA_CONF/cassandra-rackdc.properties"

# --- JVM ------------------------------------------------------------------------------------------
jamm=("$CASSANDRA_HOME"/lib/jamm-*.jar)
heap=(-Xms"$MAX_HEAP_SIZE" -Xmx"$MAX_HEAP_SIZE")
[ -n "$HEAP_NEWSIZE" ] && heap+=(-Xmn"$HEAP_NEWSIZE")

jvm=(
  "${heap[@]}"
  -XX:MaxDirectMemorySize="$MAX_DIRECT_MEMORY_SIZE"
  -XX:+UseG1GC -XX:+ParallelRefProcEnabled -XX:MaxTenuringThreshold=1 -XX:MaxGCPauseMillis=300
  -XX:ConcGCThreads=1
  -XX:TieredStopAtLevel=1
  -Xss256k -XX:+UseTLAB -XX:+ResizeTLAB -XX:+PerfDisableSharedMem
  -XX:+ExitOnOutOfMemoryError
  -Djava.net.preferIPv4Stack=true
  -javaagent:"${jamm[0]}"
  "${JPMS_FLAGS[@]}"
  -Dcassandra-foreground=yes
  -Dcassandra.config="file://$CASSANDRA_CONF/cassandra.yaml"
  -Dcassandra-rackdc.properties="file://$CASSANDRA_CONF/cassandra-rackdc.properties"
  -Dcassandra.storagedir=/var/lib/cassandra
  -Dcassandra.logdir=/var/log/cassandra
  -Dcassandra.triggers_dir="$CASSANDRA_HOME/triggers"
  -Dcassandra.jmx.local.port=7199
  -Dcom.sun.management.jmxremote.authenticate=false
  -Dcassandra.ring_delay_ms="$CASSANDRA_RING_DELAY_MS"
  -Dcassandra.skip_wait_for_gossip_to_settle=0
  -Dcassandra.consistent.rangemovement=false
  -Dcassandra.superuser_setup_delay_ms=0
  -Dlogback.configurationFile="file://$CASSANDRA_HOME/conf/logback.xml"
)
# shellcheck disable=SC2206  # JVM_EXTRA_OPTS is a space-separated list, like the official image's
jvm+=($JVM_EXTRA_OPTS "$@")

export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-4}"

# --- drop to the cassandra user (when started as root) and exec ----------------------------------
run_as=()
if [ "$(id -u)" = 0 ] && id cassandra >/dev/null 2>&1; then
  mkdir -p /var/lib/cassandra /var/log/cassandra
  find /var/lib/cassandra /var/log/cassandra "$CASSANDRA_CONF" \! -user cassandra -exec chown cassandra:cassandra '{}' +
  run_as=(setpriv --reuid=cassandra --regid=cassandra --init-groups --)
fi

echo "cassandra: listen=$CASSANDRA_LISTEN_ADDRESS seeds=$CASSANDRA_SEEDS dc=$CASSANDRA_DC rack=$CASSANDRA_RACK" \
  "token=${CASSANDRA_INITIAL_TOKEN:-auto($CASSANDRA_NUM_TOKENS)} heap=$MAX_HEAP_SIZE ring_delay=${CASSANDRA_RING_DELAY_MS}ms"
exec "${run_as[@]}" java "${jvm[@]}" -cp "$CASSANDRA_CLASSPATH" org.apache.cassandra.service.CassandraDaemon
