# PostgreSQL 15 from Debian's packages, running a cluster of our own (initdb) on
# 127.0.0.1:$PG_PORT -- never the system cluster the package creates on 5432.
# Sourced after deploy/local/lib/common.sh.

PG_BIN="/usr/lib/postgresql/15/bin"
# The server refuses to run as root, so as root it runs as the `postgres` OS user the package
# creates. That user cannot traverse $HOME (/root is mode 700), where $STACK_DATA lives, so as
# root the cluster lives in /var/lib/convo-engine/postgres; as anyone else, in $STACK_DATA.
if (( EUID == 0 )); then
  PG_OS_USER="postgres"
  PG_HOME="/var/lib/convo-engine/postgres"
else
  PG_OS_USER="$(id -un)"
  PG_HOME="$STACK_DATA/postgres"
fi
PG_DATA_DIR="$PG_HOME/data"
# A private socket directory (mode 700, owned by the server user): local connections are
# trusted there, so only that user (and root) can use them; the application uses TCP + password.
PG_SOCKET_DIR="$PG_HOME/socket"

# Runs a command as the server's OS user, from / (the server user cannot read root's cwd).
_pg_as() {
  if (( EUID == 0 )); then (cd / && runuser -u "$PG_OS_USER" -- "$@"); else (cd / && "$@"); fi
}

_pg_accepting() {
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 2
}

postgres_install() {
  apt_install postgresql postgresql-client
  [[ -x "$PG_BIN/postgres" && -x "$PG_BIN/initdb" ]] || die "PostgreSQL 15 binaries missing in $PG_BIN"
  mkdir -p "$STACK_CACHE/postgres"   # nothing to download beyond the apt packages
}

postgres_start() {
  postgres_install
  if postgres_status; then log "postgres already running on 127.0.0.1:$PG_PORT"; return 0; fi

  if [[ ! -f "$PG_DATA_DIR/PG_VERSION" ]]; then
    log "postgres: initdb $PG_DATA_DIR"
    mkdir -p "$PG_HOME"
    rm -rf "$PG_DATA_DIR"
    install -d -m 700 -o "$PG_OS_USER" "$PG_DATA_DIR" "$PG_SOCKET_DIR"
    if (( EUID == 0 )); then chown "$PG_OS_USER" "$PG_HOME"; fi
    _pg_as "$PG_BIN/initdb" -D "$PG_DATA_DIR" -U postgres --encoding=UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=scram-sha-256 >>"$STACK_LOGS/postgres.log" 2>&1 \
      || die "initdb failed (log: $STACK_LOGS/postgres.log)"
    echo "include_if_exists = 'convo.conf'" >>"$PG_DATA_DIR/postgresql.conf"
  fi
  install -d -m 700 -o "$PG_OS_USER" "$PG_SOCKET_DIR"
  install -m 644 -o "$PG_OS_USER" "$REPO_ROOT/deploy/local/config/postgres/convo.conf" "$PG_DATA_DIR/convo.conf"

  if ! _pg_accepting; then
    log "postgres: starting on 127.0.0.1:$PG_PORT"
    if (( EUID == 0 )); then
      # setpriv execs in place, so the pid file holds the postmaster itself (runuser would stay
      # as the parent and SIGKILL the server 2 s after forwarding a SIGTERM).
      start_bg postgres setpriv --reuid="$PG_OS_USER" --regid="$PG_OS_USER" --init-groups \
        env -C / HOME=/var/lib/postgresql "$PG_BIN/postgres" -D "$PG_DATA_DIR" \
        -c listen_addresses=127.0.0.1 -c port="$PG_PORT" -c unix_socket_directories="$PG_SOCKET_DIR"
    else
      start_bg postgres "$PG_BIN/postgres" -D "$PG_DATA_DIR" \
        -c listen_addresses=127.0.0.1 -c port="$PG_PORT" -c unix_socket_directories="$PG_SOCKET_DIR"
    fi
    wait_ready postgres 60 _pg_accepting
  fi

  # Role and database the application uses; CREATEDB because tests create their own databases.
  _pg_as "$PG_BIN/psql" -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres -d postgres -qAt \
    -v ON_ERROR_STOP=1 >>"$STACK_LOGS/postgres.log" 2>&1 <<'SQL' || die "postgres: creating role/database failed (log: $STACK_LOGS/postgres.log)"
SELECT 'CREATE ROLE convo' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'convo')\gexec
ALTER ROLE convo WITH LOGIN CREATEDB PASSWORD 'convo';
SELECT 'CREATE DATABASE convo OWNER convo' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'convo')\gexec
SQL
  postgres_status || die "postgres accepts connections but convo@convo cannot log in (log: $STACK_LOGS/postgres.log)"
  log "postgres ready: $(postgres_env)"
}

postgres_stop() {
  if [[ -f "$PG_DATA_DIR/postmaster.pid" ]]; then
    # Fast shutdown: ends client sessions and checkpoints; SIGTERM alone would wait for clients.
    _pg_as "$PG_BIN/pg_ctl" -D "$PG_DATA_DIR" -m fast -w -t 60 stop >/dev/null 2>&1 || true
  fi
  stop_bg postgres
}

# Healthy = the application's own credentials can log in and run a query.
postgres_status() {
  PGPASSWORD=convo PGCONNECT_TIMEOUT=3 "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U convo -d convo \
    -XqAtc 'SELECT 1' >/dev/null 2>&1
}

postgres_env() {
  echo "DATABASE_URL=postgres://convo:convo@127.0.0.1:$PG_PORT/convo"
}
