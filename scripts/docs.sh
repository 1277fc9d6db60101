#!/usr/bin/env bash
# Builds the DocC documentation of the Dataflow module with the toolchain's own docc
# (no package plugin): symbol graphs from a release build, then `docc convert`.
# The Architecture article is docs/ARCHITECTURE.md, copied into the catalog first.
# Output: .build/docs (a static archive; open .build/docs/index.html via a web server,
# or `docc preview` the catalog).
set -euo pipefail
cd "$(dirname "$0")/.."
catalog=Sources/Dataflow/Dataflow.docc
{ echo "# Architecture"; tail -n +2 docs/ARCHITECTURE.md; } > "$catalog/Architecture.md"
graphs=.build/symbol-graphs
rm -rf "$graphs" && mkdir -p "$graphs"
swift build -c release --target Dataflow \
    -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$PWD/$graphs"
docc=$(command -v docc || echo "$(dirname "$(command -v swift)")/docc")
"$docc" convert "$catalog" --additional-symbol-graph-dir "$graphs" --output-path .build/docs \
    --fallback-display-name Dataflow --fallback-bundle-identifier org.dataflow.Dataflow \
    --warnings-as-errors 2>&1 | tee /tmp/dataflow-docc.log
echo "docs: .build/docs"
