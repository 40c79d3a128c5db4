#!/usr/bin/env bash
# The one test command (`npm test`, also what .ci/run calls). On a fresh machine it installs and starts
# the real servers first (deploy/local/up --infra), then runs static checks and every test tier:
# unit (no I/O), integration (real PostgreSQL and Kafka), end to end (the five services it starts
# itself, with the real LLM server). A missing server fails the run; nothing is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

bash deploy/local/up --infra
source deploy/local/lib/stack.sh
load_stack_env
if [[ "${CI:-}" == "true" ]]; then
  # CI starts from nothing and leaves nothing running behind it.
  trap 'bash deploy/local/down >/dev/null 2>&1 || true' EXIT
fi

echo "== static checks"
npm run --silent typecheck
npm run --silent lint
npm run --silent contracts:check

results_dir=$(mktemp -d)
status=0
failed_tiers=()
for tier in unit int e2e; do
  echo "== $tier tests"
  extra=()
  [[ "$tier" == unit ]] || extra+=(--runInBand)
  code=0
  npx jest --selectProjects "$tier" "${extra[@]}" --json --outputFile "$results_dir/$tier.json" || code=$?
  if (( code != 0 )); then
    # Jest also fails a run whose tests all passed when something logged after its suite ended.
    failed_tiers+=("$tier (jest exit $code)")
    status=1
  fi
done

node -e '
  const fs = require("fs"); const dir = process.argv[1];
  let passed = 0, failed = 0;
  for (const tier of ["unit", "int", "e2e"]) {
    const file = `${dir}/${tier}.json`;
    if (!fs.existsSync(file)) { failed++; console.log(`${tier}: no results (the run crashed)`); continue; }
    const r = JSON.parse(fs.readFileSync(file, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests + r.numRuntimeErrorTestSuites;
    console.log(`${tier}: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`);
  }
  console.log(`${passed} passed, ${failed} failed`);
' "$results_dir"
(( ${#failed_tiers[@]} == 0 )) || echo "failed: ${failed_tiers[*]}"
echo "tests finished in $(( $(date +%s) - started ))s"
exit "$status"
