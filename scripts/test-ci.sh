#!/usr/bin/env bash
# The whole check: typecheck, lint, build the binary, run every test. Ends with one line
# `N passed, N failed` (from vitest's JSON report; failed checks count as failures) and exits
# non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
export NO_COLOR=1 FORCE_COLOR=0

checks_failed=0
run_check() {
  echo "── $1" >&2
  if ! "${@:2}"; then
    echo "✖ $1 failed" >&2
    checks_failed=$((checks_failed + 1))
  fi
}
run_check typecheck npm run --silent typecheck
run_check lint npm run --silent lint
run_check build npm run --silent build

echo "── tests" >&2
rm -f vitest.json
npx vitest run --reporter=default --reporter=json --outputFile=vitest.json
vitest_rc=$?

if [ ! -s vitest.json ]; then
  echo "✖ vitest wrote no report (exit $vitest_rc)" >&2
  echo "0 passed, $((checks_failed + 1)) failed"
  exit 1
fi
summary=$(node -e '
  const j = require("./vitest.json");
  const failed = j.numFailedTests + Number(process.argv[1]);
  const suites = j.testResults.filter((r) => r.status === "failed" && !r.assertionResults.length).length;
  let line = `${j.numPassedTests} passed, ${failed + suites} failed`;
  if (j.numPendingTests) line += `, ${j.numPendingTests} skipped`;
  console.log(line);
  process.exit(failed + suites || j.numTotalTests === 0 ? 1 : 0);
' "$checks_failed")
node_rc=$?
echo "$summary"
if [ $node_rc -ne 0 ] || [ $vitest_rc -ne 0 ]; then exit 1; fi
