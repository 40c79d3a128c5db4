# The whole local stack: infrastructure components and the five services. Sourced by up/down/status.
# shellcheck source=deploy/local/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
for component in "$REPO_ROOT"/deploy/local/components/*.sh; do
  # shellcheck disable=SC1090
  source "$component"
done

INFRA=(postgres kafka elasticsearch milvus embeddings llm llm_fallback)
# Servers only the services need, not the tests: started by `up` without --infra.
SERVICE_INFRA=(llm_demo)
SERVICES=(gateway sessions inference retrieval audit)
STACK_ENV="$STACK_HOME/stack.env"
DEMO_TENANT_FILE="$STACK_HOME/demo-tenant.json"

declare -A SERVICE_PORT=([gateway]=3000 [sessions]=3001 [inference]=3002 [retrieval]=3003 [audit]=3004)

# Node dependencies and the build; both skip work that is already done.
ensure_build() {
  command -v node >/dev/null || die "Node.js 20+ is required"
  local stamp="$REPO_ROOT/node_modules/.lock-hash" want
  want=$(sha256sum "$REPO_ROOT/package-lock.json" | cut -d' ' -f1)
  if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    log "npm ci"
    (cd "$REPO_ROOT" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"
    echo "$want" >"$stamp"
  fi
  log "building the TypeScript projects"
  (cd "$REPO_ROOT" && npm run --silent build) || die "build failed"
}

# Installs every component (with `all`, also SERVICE_INFRA); the llama.cpp build (minutes on a cold
# cache) runs beside the others.
install_infra() {
  local mode="${1:-infra}"
  local llm_log="$STACK_LOGS/llm-install.log" llm_pid
  # apt and pip are not safe to run twice at once: fetch the build tools before going parallel.
  apt_install curl git cmake make g++
  (llm_install) >"$llm_log" 2>&1 &
  llm_pid=$!
  postgres_install
  kafka_install
  elasticsearch_install
  milvus_install
  embeddings_install
  llm_fallback_install
  [[ "$mode" == infra ]] || llm_demo_install
  if ! wait "$llm_pid"; then tail -n 30 "$llm_log" >&2; die "llm install failed (log: $llm_log)"; fi
}

start_infra() {
  local mode="${1:-infra}" name
  for name in "${INFRA[@]}"; do "${name}_start"; done
  if [[ "$mode" == infra ]]; then return 0; fi
  for name in "${SERVICE_INFRA[@]}"; do "${name}_start"; done
}

# The audit log's Ed25519 key for the local stack: made once, kept with the data (purge deletes it,
# and with it the ability to sign more heads for the purged logs, which are gone too). One line of
# base64 PEM, so it fits an environment file.
audit_signing_key() {
  local file="$STACK_DATA/audit-signing-key.pem"
  if [[ ! -s "$file" ]]; then
    (umask 077 && openssl genpkey -algorithm ed25519 -out "$file.tmp") && mv "$file.tmp" "$file"
  fi
  base64 -w0 "$file"
}

# The master key that wraps the conversations' data keys, made once and kept beside the data: losing it
# loses every customer text in the local store (`down --purge` deletes both).
data_key_encryption_key() {
  local file="$STACK_DATA/data-key-encryption-key.hex"
  if [[ ! -s "$file" ]]; then
    (umask 077 && openssl rand -hex 32 >"$file.tmp") && mv "$file.tmp" "$file"
  fi
  cat "$file"
}

write_stack_env() {
  local name
  {
    echo "# Written by deploy/local/up: how the services reach the local stack."
    for name in "${INFRA[@]}"; do "${name}_env"; done
    echo "LOG_LEVEL=${LOG_LEVEL:-info}"
    echo "AUDIT_SIGNING_KEY=$(audit_signing_key)"
    echo "DATA_KEY_ENCRYPTION_KEY=$(data_key_encryption_key)"
  } >"$STACK_ENV.tmp"
  mv "$STACK_ENV.tmp" "$STACK_ENV"
}

load_stack_env() {
  [[ -f "$STACK_ENV" ]] || die "no $STACK_ENV: run deploy/local/up first"
  set -a
  # shellcheck disable=SC1090
  source "$STACK_ENV"
  set +a
}

service_ready() {
  curl -fsS --max-time 3 "http://127.0.0.1:${SERVICE_PORT[$1]}/readyz" >/dev/null 2>&1
}

start_services() {
  load_stack_env
  # The services answer with the demo model; stack.env keeps the tests' small one.
  local line
  while IFS= read -r line; do export "${line?}"; done < <(llm_demo_service_env)
  (cd "$REPO_ROOT" && node dist/libs/platform/src/cli/init.js) >>"$STACK_LOGS/init.log" 2>&1 \
    || die "init (migrations, topics) failed (log: $STACK_LOGS/init.log)"
  local name
  for name in "${SERVICES[@]}"; do
    if service_ready "$name"; then continue; fi
    start_bg "$name" node "$REPO_ROOT/dist/services/$name/src/main.js"
  done
  for name in "${SERVICES[@]}"; do wait_ready "$name" 90 service_ready "$name"; done
}

stop_services() {
  local name
  for name in "${SERVICES[@]}"; do stop_bg "$name"; done
}

# The demo tenant's key, created once and kept in $DEMO_TENANT_FILE; recreated if the database lost it.
ensure_demo_tenant() {
  load_stack_env
  if [[ -f "$DEMO_TENANT_FILE" ]]; then
    local key code
    key=$(demo_api_key)
    # A known key gets 404 for a conversation that does not exist; an unknown one gets 401.
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $key" \
      "http://127.0.0.1:${SERVICE_PORT[gateway]}/v1/conversations/00000000-0000-4000-8000-000000000000")
    [[ "$code" == 404 ]] && return 0
  fi
  (cd "$REPO_ROOT" && node dist/libs/platform/src/cli/create-tenant.js demo "Demo Tenant") >"$DEMO_TENANT_FILE.tmp" \
    || die "could not create the demo tenant"
  mv "$DEMO_TENANT_FILE.tmp" "$DEMO_TENANT_FILE"
}

demo_api_key() {
  node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).apiKey)' "$DEMO_TENANT_FILE"
}
