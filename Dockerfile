# syntax=docker/dockerfile:1
# One image for every process of the conversation engine: the five services, the one-shot `init`
# (migrations + Kafka topics) and `create-tenant`. What runs is chosen by the first argument
# (docker-compose `command`, Kubernetes `args`) or, with no argument, by the SERVICE variable:
#   docker run -e SERVICE=gateway ... convo-engine
#   docker run ... convo-engine init
#   docker run ... convo-engine create-tenant acme "Acme Ltd"
# Build: docker build -t convo-engine .

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------------------------
# build: install everything (dev dependencies included: tsc, tsc-alias), compile to dist/, then
# drop the dev dependencies so node_modules can be copied into the runtime image as it is.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# swagger-ui-dist pulls in @scarf/scarf, whose install script phones home.
ENV SCARF_ANALYTICS=false \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false

# The package manifests alone first, so editing the sources does not invalidate this layer; the
# patches too, which npm ci's postinstall (patch-package) applies to node_modules.
COPY package.json package-lock.json ./
COPY patches ./patches
RUN --mount=type=cache,target=/root/.npm npm ci

# The whole build context (.dockerignore keeps out node_modules, dist, .git, ...): the build's
# tsconfig includes more than services/ and libs/ (contracts, bench, deploy/local/demo).
COPY . .
RUN npm run build \
 && npm prune --omit=dev \
 && rm -rf node_modules/.cache

# ---------------------------------------------------------------------------------------------
# runtime: Node, the pruned node_modules and dist/ -- no sources, no dev dependencies, no npm cache.
FROM ${NODE_IMAGE} AS runtime

# tini as PID 1 forwards SIGTERM to node (Nest's shutdown hooks then drain Kafka consumers and
# close the pool) and reaps zombies.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# Defaults for a container: production mode, and listen on every interface (the services default
# to 127.0.0.1, which nothing outside the container could reach -- not even a health probe).
# docker-compose.yml and k8s/ set both explicitly as well.
ENV NODE_ENV=production \
    HTTP_HOST=0.0.0.0

# Owned by root and read-only for the process: the services write nothing to disk.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist

# The dispatcher: maps a process name to its compiled entry point, so compose files and
# manifests never spell out dist/ paths.
COPY --chmod=755 <<'EOF' /usr/local/bin/convo-engine
#!/bin/sh
# convo-engine [gateway|sessions|inference|retrieval|audit|init|create-tenant|probe] [ARGS...]
# With no argument, runs the service named by $SERVICE.
set -eu
cd /app
target="${1:-${SERVICE:-}}"
if [ "$#" -gt 0 ]; then shift; fi
case "$target" in
  gateway|sessions|inference|retrieval|audit)
    if [ "$target" = gateway ]; then
      # Each gateway replica needs an id of its own (it names the replica's consumer group, and
      # every replica must see every event). The code's default, "local", would be shared by all
      # replicas; the hostname is unique (the pod name in Kubernetes, the container id in Docker).
      export GATEWAY_INSTANCE_ID="${GATEWAY_INSTANCE_ID:-${HOSTNAME:-local}}"
    fi
    exec node "dist/services/$target/src/main.js" "$@" ;;
  init)
    exec node dist/libs/platform/src/cli/init.js "$@" ;;
  create-tenant)
    exec node dist/libs/platform/src/cli/create-tenant.js "$@" ;;
  probe)
    # probe PORT PATH: exit 0 on a 2xx answer. The slim image has no curl; healthchecks use this.
    exec node -e '
      const [port, path] = process.argv.slice(1);
      fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(4000) })
        .then((res) => process.exit(res.ok ? 0 : 1), () => process.exit(1));
    ' "$@" ;;
  "")
    echo "convo-engine: set SERVICE or pass one of: gateway sessions inference retrieval audit init create-tenant" >&2
    exit 64 ;;
  *)
    # Anything else runs as given (sh, node -e ..., for debugging).
    exec "$target" "$@" ;;
esac
EOF

# The `node` user of the base image, by number so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 3000 3001 3002 3003 3004
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/convo-engine"]
CMD []
