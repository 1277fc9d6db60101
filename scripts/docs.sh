#!/usr/bin/env bash
# Builds the DocC documentation of the Dataflow module with the toolchain's own docc
# (no package plugin): symbol graphs from a release build, then `docc convert`.
# The Architecture article is docs/ARCHITECTURE.md, copied into the catalog first.
# Output: .build-docs/docs (a static archive; serve it with any web server,
# or `docc preview` the catalog).
set -euo pipefail
cd "$(dirname "$0")/.."
catalog=Sources/Dataflow/Dataflow.docc
{ echo "# Architecture"; tail -n +2 docs/ARCHITECTURE.md; } > "$catalog/Architecture.md"
# Its own build folder, so the symbol-graph flags never mix with the normal build's
# (an up-to-date normal build would emit no graphs).
graphs=.build-docs/symbol-graphs
mkdir -p "$graphs"
swift build -c release --target Dataflow --scratch-path .build-docs \
    -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$PWD/$graphs"
# Only the Dataflow module's own symbol graphs (the build also emits the kernels' and
# the scheduler's, which are documented in their sources, not in this catalog).
own=.build-docs/symbol-graphs-dataflow
rm -rf "$own" && mkdir -p "$own"
cp "$graphs"/Dataflow.symbols.json "$own"/
cp "$graphs"/Dataflow@*.symbols.json "$own"/ 2>/dev/null || true
docc=$(command -v docc || echo "$(dirname "$(command -v swift)")/docc")
"$docc" convert "$catalog" --additional-symbol-graph-dir "$own" --output-path .build-docs/docs \
    --fallback-display-name Dataflow --fallback-bundle-identifier org.dataflow.Dataflow 2>&1 | tee /tmp/dataflow-docc.log
echo "docs: .build-docs/docs ($(grep -c 'warning:' /tmp/dataflow-docc.log) docc warnings, see /tmp/dataflow-docc.log)"
