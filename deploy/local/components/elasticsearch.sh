# Elasticsearch 8.19 (integ-test-zip: the real server without optional modules) from Maven
# Central, on 127.0.0.1:$ES_PORT, running on JDK 17.
# Sourced after deploy/local/lib/common.sh.

ES_VERSION="8.19.21"   # newest 8.19.x patch on Maven Central (maven-metadata: 8.19.0, .2, .4, .21)
ES_ARTIFACT="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip"
ES_CONFIG_SRC="$REPO_ROOT/deploy/local/config/elasticsearch"
ES_ZIP="$STACK_CACHE/elasticsearch/elasticsearch-$ES_VERSION.zip"
ES_JAVA_HOME_DIR="${ES_JAVA_HOME_DIR:-/usr/lib/jvm/java-17-openjdk-amd64}"
# Elasticsearch refuses to run as root, so as root it runs as a system user of its own. That
# user cannot traverse $HOME (/root is mode 700), where $STACK_CACHE and $STACK_DATA live, so as
# root the unpacked distribution, config, data and logs live in /var/lib/convo-engine/elasticsearch
# (the zip itself stays cached in $STACK_CACHE); as anyone else, in $STACK_DATA/elasticsearch.
if (( EUID == 0 )); then
  ES_OS_USER="convo-es"
  ES_ROOT="/var/lib/convo-engine/elasticsearch"
else
  ES_OS_USER="$(id -un)"
  ES_ROOT="$STACK_DATA/elasticsearch"
fi
ES_HOME_DIR="$ES_ROOT/elasticsearch-$ES_VERSION"   # unpacked distribution, read-only
ES_CONF_DIR="$ES_ROOT/config"                       # ES_PATH_CONF (ES writes its keystore here)
ES_DATA_DIR="$ES_ROOT/data"
ES_LOGS_DIR="$ES_ROOT/logs"

_es_url() {
  echo "http://127.0.0.1:$ES_PORT"
}

elasticsearch_install() {
  [[ -x "$ES_JAVA_HOME_DIR/bin/java" ]] || apt_install openjdk-17-jre-headless
  command -v unzip >/dev/null || apt_install unzip
  if (( EUID == 0 )) && ! id -u "$ES_OS_USER" >/dev/null 2>&1; then
    log "elasticsearch: creating system user $ES_OS_USER"
    useradd --system --user-group --no-create-home --home-dir "$ES_ROOT" \
      --shell /usr/sbin/nologin "$ES_OS_USER"
  fi

  if [[ ! -f "$ES_ZIP" ]]; then
    command -v mvn >/dev/null || apt_install maven
    log "elasticsearch: fetching $ES_ARTIFACT from Maven Central"
    mkdir -p "$STACK_CACHE/elasticsearch"
    # Artifacts are cached in the default Maven repository (~/.m2), outside git.
    (cd "$STACK_CACHE/elasticsearch" && JAVA_HOME="$ES_JAVA_HOME_DIR" mvn -B -q -Dstyle.color=never \
      org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy -Dartifact="$ES_ARTIFACT" \
      -DoutputDirectory="$STACK_CACHE/elasticsearch" >"$STACK_LOGS/elasticsearch-install.log" 2>&1) \
      || die "elasticsearch: mvn dependency:copy failed (log: $STACK_LOGS/elasticsearch-install.log)"
    [[ -f "$ES_ZIP" ]] || die "elasticsearch: $ES_ZIP missing after mvn dependency:copy"
  fi

  if [[ ! -f "$ES_HOME_DIR/.installed" ]]; then
    log "elasticsearch: unpacking into $ES_HOME_DIR"
    mkdir -p "$ES_ROOT"
    chmod 755 "$ES_ROOT"
    rm -rf "${ES_ROOT:?}/unpack.tmp" "$ES_HOME_DIR"
    unzip -q "$ES_ZIP" -d "$ES_ROOT/unpack.tmp" || die "elasticsearch: unzip $ES_ZIP failed"
    mv "$ES_ROOT/unpack.tmp/elasticsearch-$ES_VERSION" "$ES_HOME_DIR"
    rm -rf "${ES_ROOT:?}/unpack.tmp"
    chmod -R go+rX "$ES_HOME_DIR"
    touch "$ES_HOME_DIR/.installed"
  fi
}

elasticsearch_start() {
  elasticsearch_install
  if elasticsearch_status; then log "elasticsearch already running on $(_es_url)"; return 0; fi

  install -d -m 750 -o "$ES_OS_USER" "$ES_CONF_DIR" "$ES_DATA_DIR" "$ES_LOGS_DIR"
  # jvm.options, log4j2.properties, ... come from the distribution; elasticsearch.yml is ours.
  if [[ ! -f "$ES_CONF_DIR/jvm.options" ]]; then
    cp -r "$ES_HOME_DIR/config/." "$ES_CONF_DIR/"
  fi
  sed -e "s|@ES_PORT@|$ES_PORT|g" -e "s|@ES_DATA_DIR@|$ES_DATA_DIR|g" -e "s|@ES_LOGS_DIR@|$ES_LOGS_DIR|g" \
    "$ES_CONFIG_SRC/elasticsearch.yml" >"$ES_CONF_DIR/elasticsearch.yml"
  chown -R "$ES_OS_USER" "$ES_CONF_DIR"

  log "elasticsearch: starting on $(_es_url)"
  local run=(env -C / HOME="$ES_ROOT" ES_JAVA_HOME="$ES_JAVA_HOME_DIR" ES_PATH_CONF="$ES_CONF_DIR"
             ES_JAVA_OPTS="-Xms512m -Xmx512m" "$ES_HOME_DIR/bin/elasticsearch")
  if (( EUID == 0 )); then
    # setpriv execs in place (runuser would stay as the parent and SIGKILL the server 2 s
    # after forwarding SIGTERM, cutting a clean shutdown short).
    start_bg elasticsearch setpriv --reuid="$ES_OS_USER" --regid="$ES_OS_USER" --init-groups \
      "${run[@]}"
  else
    start_bg elasticsearch "${run[@]}"
  fi
  wait_ready elasticsearch 180 elasticsearch_status
}

elasticsearch_stop() {
  # SIGTERM: Elasticsearch closes its shards and exits; stop_bg waits for it.
  stop_bg elasticsearch
}

# Healthy = the HTTP layer answers and the cluster is at least yellow.
elasticsearch_status() {
  curl -fsS -o /dev/null -m 5 "$(_es_url)/_cluster/health?wait_for_status=yellow&timeout=1s" 2>/dev/null
}

elasticsearch_env() {
  echo "ELASTICSEARCH_URL=$(_es_url)"
}
