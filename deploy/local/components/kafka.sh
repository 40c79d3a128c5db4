# Apache Kafka (KRaft, one node acting as broker and controller) from Maven Central, on
# 127.0.0.1:$KAFKA_PORT (controller on 127.0.0.1:$KAFKA_CONTROLLER_PORT).
# Sourced after deploy/local/lib/common.sh.

KAFKA_VERSION="3.9.1"
KAFKA_CONFIG_SRC="$REPO_ROOT/deploy/local/config/kafka"
KAFKA_HOME_DIR="$STACK_CACHE/kafka/$KAFKA_VERSION"   # lib/ = the broker's runtime classpath
KAFKA_DATA_DIR="$STACK_DATA/kafka"                    # server.properties, cluster id, logs/
KAFKA_JAVA_HOME="${KAFKA_JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}"

_kafka_java() {
  "$KAFKA_JAVA_HOME/bin/java" "$@"
}

kafka_install() {
  # kcat: readiness probe here, and the acceptance checks' independent consumer.
  apt_install kcat
  [[ -x "$KAFKA_JAVA_HOME/bin/java" ]] || apt_install openjdk-17-jre-headless

  # Installed = lib/ was copied from exactly this pom (a pom change re-resolves).
  local want stamp="$KAFKA_HOME_DIR/.installed"
  want="$(sha256sum "$KAFKA_CONFIG_SRC/pom.xml" | cut -c1-16)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return 0; fi

  command -v mvn >/dev/null || apt_install maven
  log "kafka: resolving kafka_2.13:$KAFKA_VERSION from Maven Central into $KAFKA_HOME_DIR"
  mkdir -p "$KAFKA_HOME_DIR"
  cp "$KAFKA_CONFIG_SRC/pom.xml" "$KAFKA_HOME_DIR/pom.xml"
  rm -rf "$KAFKA_HOME_DIR/lib.tmp"
  # Artifacts are cached in the default Maven repository (~/.m2), outside git.
  JAVA_HOME="$KAFKA_JAVA_HOME" mvn -B -q -Dstyle.color=never -f "$KAFKA_HOME_DIR/pom.xml" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$KAFKA_HOME_DIR/lib.tmp" \
    >"$STACK_LOGS/kafka-install.log" 2>&1 \
    || die "kafka: mvn copy-dependencies failed (log: $STACK_LOGS/kafka-install.log)"
  [[ -f "$KAFKA_HOME_DIR/lib.tmp/kafka_2.13-$KAFKA_VERSION.jar" ]] || die "kafka: kafka_2.13-$KAFKA_VERSION.jar not resolved"
  rm -rf "${KAFKA_HOME_DIR:?}/lib"
  mv "$KAFKA_HOME_DIR/lib.tmp" "$KAFKA_HOME_DIR/lib"
  echo "$want" >"$stamp"
}

kafka_start() {
  kafka_install
  if kafka_status; then log "kafka already running on 127.0.0.1:$KAFKA_PORT"; return 0; fi

  mkdir -p "$KAFKA_DATA_DIR/logs"
  sed -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" \
      -e "s|@KAFKA_CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
      -e "s|@KAFKA_LOG_DIRS@|$KAFKA_DATA_DIR/logs|g" \
      "$KAFKA_CONFIG_SRC/server.properties" >"$KAFKA_DATA_DIR/server.properties"

  # KRaft needs its storage formatted once with a cluster id; kept with the data.
  if [[ ! -f "$KAFKA_DATA_DIR/logs/meta.properties" ]]; then
    if [[ ! -s "$KAFKA_DATA_DIR/cluster-id" ]]; then
      # The tool's stdout also carries log lines: keep only the 22-character base64url id
      # (StorageTool format accepts any string as the cluster id, garbage included).
      local id
      id=$(_kafka_java -Dlog4j.configuration="file:$KAFKA_CONFIG_SRC/log4j.properties" \
        -cp "$KAFKA_HOME_DIR/lib/*" kafka.tools.StorageTool random-uuid 2>>"$STACK_LOGS/kafka.log" \
        | grep -E '^[A-Za-z0-9_-]{22}$' | tail -n 1) || true
      [[ -n "$id" ]] || die "kafka: StorageTool random-uuid gave no id (log: $STACK_LOGS/kafka.log)"
      echo "$id" >"$KAFKA_DATA_DIR/cluster-id"
    fi
    log "kafka: formatting $KAFKA_DATA_DIR/logs (cluster $(cat "$KAFKA_DATA_DIR/cluster-id"))"
    _kafka_java -Dlog4j.configuration="file:$KAFKA_CONFIG_SRC/log4j.properties" \
      -cp "$KAFKA_HOME_DIR/lib/*" kafka.tools.StorageTool format --ignore-formatted \
      -t "$(cat "$KAFKA_DATA_DIR/cluster-id")" -c "$KAFKA_DATA_DIR/server.properties" \
      >>"$STACK_LOGS/kafka.log" 2>&1 || die "kafka: storage format failed (log: $STACK_LOGS/kafka.log)"
  fi

  log "kafka: starting on 127.0.0.1:$KAFKA_PORT"
  start_bg kafka "$KAFKA_JAVA_HOME/bin/java" -Xms256m -Xmx512m \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$KAFKA_CONFIG_SRC/log4j.properties" \
    -cp "$KAFKA_HOME_DIR/lib/*" kafka.Kafka "$KAFKA_DATA_DIR/server.properties"
  wait_ready kafka 90 kafka_status
}

kafka_stop() {
  # SIGTERM = controlled shutdown (flushes logs, resigns leadership); stop_bg waits for it.
  stop_bg kafka
}

# Healthy = the broker answers a metadata request and lists itself (registered, unfenced).
kafka_status() {
  command -v kcat >/dev/null 2>&1 || return 1
  # Closed port: answer at once (kcat would retry for its whole metadata timeout).
  (exec 3<>"/dev/tcp/127.0.0.1/$KAFKA_PORT") 2>/dev/null || return 1
  timeout 10 kcat -b "127.0.0.1:$KAFKA_PORT" -L -m 3 2>/dev/null \
    | grep -q "broker 1 at 127.0.0.1:$KAFKA_PORT"
}

kafka_env() {
  echo "KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"
}
