#!/usr/bin/env bash
# Runs every Go fuzz target of the workspace for a bounded time and fails on any crash.
#
# Targets are discovered, not listed: every package of every module in go.work whose test files
# declare `func Fuzz...` is asked for its targets with `go test -list '^Fuzz'`, so a new target is
# run without editing this script. Go fuzzes one target per invocation, so each runs alone:
#   go test -run '^$' -fuzz '^Name$' -fuzztime $FUZZTIME <package>
# A failing target leaves its crasher under the package's testdata/fuzz/<Name>/ (commit it as a
# regression seed once the bug is fixed); the failure output is printed in full.
#
# Environment:
#   FUZZTIME     time (or Nx count) per target, default 10s (CI runs 34 targets: 15 s each left no room for the compose and Kubernetes steps in 45 minutes)
#   FUZZMINIMIZETIME  time spent minimizing each new input, default 5s: Go's default (60s) can
#                eat a short run minimizing inputs that only widened coverage; a crasher is still
#                minimized, within this bound
#   FUZZ_FILTER  extended regexp on "<import path>.<Name>" selecting the targets to run (default all)
#
# Output: one line per target with its executions and wall time (compiling included), then
# "N passed, N failed" (the line CI reads). The exit status is 1 when any target failed.
set -uo pipefail
cd "$(dirname "$0")/.."

fuzztime=${FUZZTIME:-10s}
minimizetime=${FUZZMINIMIZETIME:-5s}
filter=${FUZZ_FILTER:-.}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Packages whose test files declare a fuzz target, as "<module dir> <import path>".
packages=()
for mod in $(go list -m -f '{{.Dir}}'); do
	while read -r dir path; do
		if grep -qs '^func Fuzz' "$dir"/*_test.go; then
			packages+=("$mod $path")
		fi
	done < <(cd "$mod" && go list -f '{{.Dir}} {{.ImportPath}}' ./...)
done

if [ "${#packages[@]}" -eq 0 ]; then
	echo "no fuzz targets found: the discovery is broken"
	echo "0 passed, 1 failed"
	exit 1
fi

passed=0
failed=0
failures=()
start=$SECONDS
for entry in "${packages[@]}"; do
	read -r mod path <<<"$entry"
	# -fuzz makes -list build the fuzz-instrumented test binary the runs below reuse, instead of
	# a plain one built for the listing alone (minutes on a cold cache).
	if ! targets=$(cd "$mod" && go test -list '^Fuzz' -fuzz '^Fuzz' -run '^$' "$path" 2>&1); then
		echo "FAIL $path: the test binary does not build"
		echo "$targets"
		failed=$((failed + 1))
		failures+=("$path (build)")
		continue
	fi
	for name in $(grep '^Fuzz' <<<"$targets"); do
		grep -Eq -- "$filter" <<<"$path.$name" || continue
		t0=$SECONDS
		(cd "$mod" && go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimizetime" "$path") >"$log" 2>&1
		status=$?
		# Go's fuzzing engine can fail a run with a bare "context deadline exceeded" when
		# -fuzztime runs out while it handles a new input: no crasher, no failing input written.
		# That is the engine's race, not a finding, so such a target runs once more; any failure
		# of the second run counts, and a run that wrote a failing input never runs again.
		if [ "$status" -ne 0 ] && grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written to' "$log"; then
			echo "note $path.$name: the fuzzing engine's deadline race (no input failed); running it again"
			(cd "$mod" && go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimizetime" "$path") >"$log" 2>&1
			status=$?
		fi
		# Go prints "fuzz: elapsed: 15s, execs: 123456 (8230/sec), new interesting: ..." every 3 s
		# and once at the end; the last one holds the total.
		execs=$(grep -o 'execs: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
		took=$((SECONDS - t0))
		if [ "$status" -eq 0 ]; then
			passed=$((passed + 1))
			printf 'ok   %s: %s execs, %ss\n' "$path.$name" "${execs:-0}" "$took"
		else
			failed=$((failed + 1))
			failures+=("$path.$name")
			printf 'FAIL %s: %s execs, %ss\n' "$path.$name" "${execs:-0}" "$took"
			cat "$log"
		fi
	done
done

echo "fuzzed for ${fuzztime} per target, $((SECONDS - start))s in all"
for f in "${failures[@]}"; do
	echo "failed: $f"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
