# shellcheck shell=bash
# Milvus Lite (PyPI `milvus-lite`, pure Python: faiss + pyarrow) as a gRPC server on
# 127.0.0.1:$MILVUS_PORT, speaking the Milvus protocol the Node SDK uses.
# Sourced after deploy/local/lib/common.sh.

MILVUS_LITE_VERSION="3.2.2"
# milvus-lite imports the gRPC stubs from pymilvus but does not declare it; 2.6.x matches the
# Milvus 2.6 protocol of @zilliz/milvus2-sdk-node 2.6. The [chinese] extra adds jieba (analyzer).
MILVUS_PYMILVUS_VERSION="2.6.17"
MILVUS_VENV="$STACK_CACHE/milvus/venv-$MILVUS_LITE_VERSION"
MILVUS_DATA_DIR="$STACK_DATA/milvus"

milvus_install() {
  mkdir -p "$STACK_CACHE/milvus"
  py_venv "$MILVUS_VENV" "milvus-lite[chinese]==$MILVUS_LITE_VERSION" "pymilvus==$MILVUS_PYMILVUS_VERSION"
}

milvus_start() {
  milvus_install
  if milvus_status; then log "milvus already running on 127.0.0.1:$MILVUS_PORT"; return 0; fi
  if ! is_running milvus; then
    log "milvus: starting milvus-lite $MILVUS_LITE_VERSION on 127.0.0.1:$MILVUS_PORT (data: $MILVUS_DATA_DIR)"
    mkdir -p "$MILVUS_DATA_DIR"
    # TMPDIR: jieba writes its dictionary cache there.
    start_bg milvus env TMPDIR="$MILVUS_DATA_DIR" PYTHONUNBUFFERED=1 \
      "$MILVUS_VENV/bin/python" "$REPO_ROOT/deploy/local/python/milvus_server.py" \
      --data-dir "$MILVUS_DATA_DIR" --host 127.0.0.1 --port "$MILVUS_PORT"
  fi
  wait_ready milvus 60 milvus_status
}

milvus_stop() {
  stop_bg milvus   # SIGTERM: milvus_server.py turns it into a graceful shutdown
}

# Healthy = a real gRPC call (ListCollections) through pymilvus succeeds.
milvus_status() {
  [[ -x "$MILVUS_VENV/bin/python" ]] || return 1
  "$MILVUS_VENV/bin/python" "$REPO_ROOT/deploy/local/python/milvus_probe.py" "127.0.0.1:$MILVUS_PORT" >/dev/null 2>&1
}

milvus_env() {
  echo "MILVUS_ADDRESS=127.0.0.1:$MILVUS_PORT"
}
