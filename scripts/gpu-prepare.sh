#!/usr/bin/env bash
# Packs .gpu/ (git-ignored, never committed) with what scripts/gpu-check.sh needs on a GPU host that has a CUDA PyTorch but no Node.js.
#
# Run here, on the development machine, from any folder:  bash scripts/gpu-prepare.sh
# It builds dist/, then copies into .gpu/: this machine's Node 20 binary (xz), the Node-API and node-addon-api headers
# (the binding is compiled there with g++ against the libtorch inside the host's PyTorch), the one runtime package the
# engine needs (@huggingface/tokenizers), and from ../shared (ICLIT_SHARED) the tiny-llama fixture and, for the
# benchmark's real-length prompts, SST-2 dev, the paper's instruction pool and the LLaMA-2 tokenizer. These copies
# travel to the GPU host only; nothing from ../shared enters the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
G=.gpu
SHARED=${ICLIT_SHARED:-../shared}
exclude="$(git rev-parse --git-common-dir)/info/exclude"
grep -qx '/.gpu/' "$exclude" 2>/dev/null || echo '/.gpu/' >> "$exclude"

npm run build --silent
rm -rf "$G"
mkdir -p "$G/node/bin" "$G/node/include/node" "$G/node_modules/@huggingface" "$G/node_modules/node-addon-api"

node_bin="$(command -v node)"
xz -T2 -6 -c "$node_bin" > "$G/node/bin/node.xz"
headers="$(dirname "$(dirname "$(readlink -f "$node_bin")")")/include/node"
[ -f "$headers/node_api.h" ] || headers=/usr/include/node
cp "$headers"/{node_api.h,node_api_types.h,js_native_api.h,js_native_api_types.h} "$G/node/include/node/"
addon="$(node -p "require('node-addon-api').include_dir")"
cp "$addon"/*.h node_modules/node-addon-api/package.json "$G/node_modules/node-addon-api/"
cp -r node_modules/@huggingface/tokenizers "$G/node_modules/@huggingface/"

if [ -d "$SHARED/fixtures/tiny-llama" ]; then
  mkdir -p "$G/shared/fixtures" "$G/shared/data/sst2" "$G/shared/data/paper-instructions" "$G/shared/data/tokenizers/llama2"
  cp -r "$SHARED/fixtures/tiny-llama" "$G/shared/fixtures/"
  cp "$SHARED/data/sst2/dev.tsv" "$G/shared/data/sst2/"
  cp "$SHARED/data/paper-instructions/sentiment.txt" "$G/shared/data/paper-instructions/"
  cp "$SHARED/data/tokenizers/llama2/"{tokenizer.json,tokenizer_config.json,special_tokens_map.json} "$G/shared/data/tokenizers/llama2/"
else
  echo "gpu-prepare: $SHARED has no fixtures: the GPU tier's fixture tests will skip and the benchmark uses SST-2-like lengths" >&2
fi

echo "gpu-prepare: .gpu $(du -sh "$G" | cut -f1), dist $(du -sh dist | cut -f1); tracked files $(git ls-files -z | du -cb --files0-from=- | tail -1 | cut -f1) bytes"
echo 'gpu-prepare: now run on the GPU host:  bash scripts/gpu-check.sh   (carry .gpu and dist; results in $OUT)'
