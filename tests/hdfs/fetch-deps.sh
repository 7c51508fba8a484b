#!/usr/bin/env bash
# Copy the runtime classpath of Hadoop's MiniDFSCluster (tests/hdfs/pom.xml) into
# tests/hdfs/target/lib. Needs Java and Maven, and Maven Central on the first run; afterwards
# everything comes from ~/.m2 and the script is a no-op while target/lib is complete.
#
# Usage: tests/hdfs/fetch-deps.sh [--force]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lib_dir="$here/target/lib"
stamp="$here/target/lib.complete"

if [[ "${1:-}" != "--force" && -f "$stamp" && "$stamp" -nt "$here/pom.xml" ]]; then
    echo "fetch-deps: $lib_dir is up to date"
    exit 0
fi

for tool in java mvn; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "fetch-deps: '$tool' is not on PATH (needed to fetch the MiniDFSCluster jars)" >&2
        exit 2
    fi
done

rm -rf "$lib_dir" "$stamp"
mkdir -p "$here/target"
mvn -B -q -f "$here/pom.xml" dependency:copy-dependencies \
    -Dstyle.color=never -DincludeScope=runtime -DoutputDirectory="$lib_dir"

# The stamp marks a complete copy, so an interrupted run is redone rather than trusted.
touch "$stamp"
echo "fetch-deps: $(find "$lib_dir" -name '*.jar' | wc -l) jars, $(du -sh "$lib_dir" | cut -f1) in $lib_dir"
