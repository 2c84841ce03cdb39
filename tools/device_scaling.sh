#!/usr/bin/env bash
# The CPU-bound scaling run of issue #17 (1, 2, 4, 8, 16 workers, both
# start methods, beside Python's Pool) on the machine some sessions are
# lent, which has no Deno: the Deno binary travels with the working tree,
# compressed, in the git-ignored .device/ folder.
#
# Here, once (about 30 MB):
#     mkdir -p .device && xz -T0 -c "$(readlink -f "$(command -v deno)")" > .device/deno.xz
# There (the `run` tool, carrying [".device"]):
#     bash tools/device_scaling.sh [ROUNDS]
# It writes the table to stdout and the samples to $OUT/pool_scaling.json
# ($OUT: the folder that comes back; this folder where there is none).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

packed="$root/.device/deno.xz"
[ -f "$packed" ] || { echo "No $packed: see the top of $0" >&2; exit 2; }
if command -v xz >/dev/null; then
  xz -dc "$packed" >"$tmp/deno"
else
  python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' \
    "$packed" "$tmp/deno"
fi
chmod +x "$tmp/deno"
export PATH="$tmp:$PATH" DENO_DIR="$tmp/cache" DENO_NO_UPDATE_CHECK=1

echo "$(nproc) CPUs; $(deno --version | head -1); $(${PYTHON:-python3} --version 2>&1)"
PYTHON=${PYTHON:-python3} deno run -A "$root/bench/pool_scaling.ts" \
  --max "$(nproc)" --rounds "$rounds" --json "${OUT:-$root}/pool_scaling.json"
