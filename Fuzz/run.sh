#!/usr/bin/env bash
# Builds the TraceKit libFuzzer target and runs it.
#
#   Fuzz/run.sh                 # fuzz for 60 seconds
#   Fuzz/run.sh 600             # fuzz for 600 seconds
#   Fuzz/run.sh -runs=10000000  # fuzz for exactly this many executions
#   Fuzz/run.sh -runs=N -jobs=2 -workers=2   # any further libFuzzer flags pass through
#   Fuzz/run.sh --build-only    # only build Fuzz/.build/tracekit-fuzz
#
# The target (Fuzz/TraceKitFuzz.swift) is compiled together with every TraceKit source
# into one module with -sanitize=fuzzer,address; SwiftPM cannot build libFuzzer targets.
# Seeds come from the repository's real traces (traces/**): each text trace cut into
# 10-line windows, a gzip and an xz copy of a few windows, and two whole trace.dat files
# (whole traces make every execution slow and add no new line shapes). New inputs go to Fuzz/.build/corpus, crashes
# to Fuzz/.build/artifacts (copy them to Tests/Fixtures/fuzz/ as regression tests).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/Fuzz/.build"
binary="$build/tracekit-fuzz"
seeds="$build/seeds"
corpus="$build/corpus"
artifacts="$build/artifacts"
swiftc="${SWIFTC:-swiftc}"
mkdir -p "$build" "$corpus" "$artifacts"

sources=("$root"/Fuzz/TraceKitFuzz.swift)
while IFS= read -r -d '' file; do sources+=("$file"); done \
    < <(find "$root/Sources/TraceKit" -name '*.swift' -print0 | sort -z)

newest_source="$(ls -t "${sources[@]}" | head -1)"
if [[ ! -x "$binary" || "$newest_source" -nt "$binary" || "$0" -nt "$binary" ]]; then
    echo "building $binary" >&2
    # ld.gold warns about every ASan check symbol; those warnings are noise.
    "$swiftc" -sanitize=fuzzer,address -parse-as-library -module-name TraceKit -swift-version 6 -O -g \
        -I "$root/Sources/CTraceCmd" -I "$root/Sources/CCompression" \
        -Xcc -I/usr/include/trace-cmd -Xcc -I/usr/include/tracefs -Xcc -I/usr/include/traceevent \
        -ltracecmd -ltracefs -ltraceevent -lz -llzma \
        -module-cache-path "$build/module-cache" \
        "${sources[@]}" -o "$binary" 2> >(grep -v "Cannot export local symbol '__asan" >&2)
fi
[[ "${1:-}" == "--build-only" ]] && exit 0

if [[ ! -d "$seeds" ]]; then
    mkdir -p "$seeds"
    n=0
    while IFS= read -r -d '' file; do
        case "$file" in
            *.dat|*.json|*.md|*.txt) ;;
            *.xz) xz -dc "$file" | split -l 10 -d -a 4 - "$seeds/$(printf 'text-%04d-' "$n")" ;;
            *) split -l 10 -d -a 4 "$file" "$seeds/$(printf 'text-%04d-' "$n")" ;;
        esac
        n=$((n + 1))
    done < <(find "$root/traces" -type f -print0 | sort -z)
    cp "$root/traces/6.12/minimal.dat" "$seeds/dat-minimal"
    cp "$root/traces/6.1/cpuid-toggle.dat" "$seeds/dat-cpuid-toggle"
    for window in "$seeds"/text-*-0001; do
        gzip -c "$window" > "$window.gz-seed"
        xz -c "$window" > "$window.xz-seed"
    done 2>/dev/null | true
    # The layout samples (200-line heads of real captures) are text too.
    for file in "$root"/traces/layouts/*.head200.txt; do
        split -l 10 -d -a 4 "$file" "$seeds/layout-$(basename "$file" .txt)-"
    done
fi

limit=(-max_total_time=60)
if [[ $# -gt 0 && "$1" =~ ^[0-9]+$ ]]; then limit=(-max_total_time="$1"); shift; fi
for argument in "$@"; do [[ "$argument" == -runs=* || "$argument" == -max_total_time=* ]] && limit=(); done

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"
cd "$build"
exec "$binary" "${limit[@]}" -max_len=8192 -timeout=10 -rss_limit_mb=4096 \
    -artifact_prefix="$artifacts/" -print_final_stats=1 "$@" "$corpus" "$seeds"
