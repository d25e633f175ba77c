#!/usr/bin/env bash
# On a GPU host: builds the binding against the host PyTorch's libtorch, runs the GPU tier, benchmarks a 7B-shaped bf16 study; results in $OUT.
#
# Prepare first on the development machine (bash scripts/gpu-prepare.sh: .gpu/ and dist/), then run from the
# repository root on the GPU host:  bash scripts/gpu-check.sh   (about 5 minutes on one H200; budget 8).
# Writes to $OUT (default out/gpu): gpu-check.log (everything), gpu-tests.log (GPU tier), gpu-bench.json (7B
# benchmark: load, forward and LoRA-step rates, the 30-repeat convergence study, device memory), nvidia-smi.csv
# (memory used every 0.5 s), cpu-tests.log (the engine's CPU tests on this libtorch).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-out/gpu}
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu-check.log") 2>&1
START=$SECONDS
stage() { echo "== $((SECONDS - START)) s: $*"; }
G=.gpu

stage "toolchain"
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' 2>/dev/null; then
  mkdir -p /tmp/iclit-node/bin
  xz -dc "$G/node/bin/node.xz" > /tmp/iclit-node/bin/node 2>/dev/null ||
    python3 -c "import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], 'wb'))" "$G/node/bin/node.xz" /tmp/iclit-node/bin/node
  chmod +x /tmp/iclit-node/bin/node
  export PATH=/tmp/iclit-node/bin:$PATH
fi
if [ ! -d node_modules ]; then rm -f node_modules; mkdir -p node_modules; cp -r "$G/node_modules/." node_modules/; fi
echo "node $(node --version), $(python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'), $(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null)"

stage "build the binding (native/find-libtorch.cjs finds python3's torch)"
FIND=native/find-libtorch.cjs
INC=$(node $FIND include); LIBDIR=$(node $FIND lib); LIBS=$(node $FIND libs); DEFS=$(node $FIND defines)
echo "libtorch: $(node -p "require('./$FIND').findLibtorch().source") ($LIBDIR; $LIBS; $DEFS)"
OBJ=/tmp/iclit-obj; mkdir -p "$OBJ" native/build/Release
CXX=${CXX:-g++}
FLAGS=(-std=c++17 -O2 -fopenmp -ffp-contract=off -fPIC -fexceptions -w -D"$DEFS" -DNAPI_CPP_EXCEPTIONS -DNAPI_VERSION=8 -I"$G/node/include/node" -Inode_modules/node-addon-api)
for i in $INC; do FLAGS+=(-I"$i"); done
pids=()
for f in native/*.cc; do "$CXX" "${FLAGS[@]}" -c "$f" -o "$OBJ/$(basename "$f" .cc).o" & pids+=($!); done
for p in "${pids[@]}"; do wait "$p" || { echo "gpu-check: the native build failed"; exit 1; }; done
# shellcheck disable=SC2086
"$CXX" -shared -fopenmp -o native/build/Release/iclit_torch.node "$OBJ"/*.o -L"$LIBDIR" -Wl,-rpath,"$LIBDIR" $LIBS || { echo "gpu-check: linking failed"; exit 1; }
node -e "const t = require('./native/build/Release/iclit_torch.node'); console.log('binding: libtorch', t.version(), 'cuda available', t.cudaIsAvailable(), 'devices', t.cudaDeviceCount())"

stage "GPU tier (ICLIT_TEST_GPU=1)"
export ICLIT_SHARED=$PWD/$G/shared
ICLIT_TEST_GPU=1 node --test --test-concurrency=1 dist/src/torch/cuda.test.js dist/src/models/cuda.test.js dist/src/train/cuda.test.js 2>&1 | tee "$OUT/gpu-tests.log"
TIER=${PIPESTATUS[0]}

stage "7B-shaped bfloat16 benchmark"
nvidia-smi --query-gpu=timestamp,memory.used,memory.total,utilization.gpu --format=csv -lms 500 > "$OUT/nvidia-smi.csv" 2>/dev/null &
SMI=$!
timeout 300 node dist/bench/gpu.js "$OUT" /tmp/iclit-7b
BENCH=$?
kill "$SMI" 2>/dev/null
echo "peak memory.used by nvidia-smi: $(awk -F', ' 'NR>1 { v=$2+0; if (v>m) m=v } END { print m " MiB" }' "$OUT/nvidia-smi.csv")"

stage "the engine's CPU tests on this libtorch"
timeout 150 node --test --test-concurrency=1 dist/src/torch dist/src/models/llama.test.js dist/src/lora dist/src/train/train.test.js dist/src/train/fixture.test.js > "$OUT/cpu-tests.log" 2>&1
echo "cpu tests: $(grep -E '^# (pass|fail|skipped)' "$OUT/cpu-tests.log" | tr '\n' ' ')"

stage "done: GPU tier exit $TIER, benchmark exit $BENCH"
[ "$TIER" = 0 ] && [ "$BENCH" = 0 ]
