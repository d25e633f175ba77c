// Linear layers and matmuls, with bfloat16 GEMMs widened to float32 on CPUs without native bfloat16.
#include "binding.h"

#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <atomic>

namespace iclit {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// ---------- bfloat16 GEMMs on CPUs without native bfloat16 ----------
// libtorch 1.13 runs CPU bfloat16 GEMMs through oneDNN only with AVX-512 BF16/AMX; elsewhere it falls back to a
// scalar loop (1.6 GFLOP/s here, against 100+ for float32). Widening bfloat16 to float32 is exact, so a float32 GEMM
// on the widened operands, rounded to bfloat16 once, is a bfloat16 GEMM with float32 accumulation (what AMX and
// GPUs compute). The linear layer is a custom autograd function so that backward widens the weight again instead of
// keeping a float32 copy of every weight alive until backward.

static std::atomic<bool> emulate_bf16{false};
void SetEmulateBf16(bool on) { emulate_bf16 = on; }
bool EmulateBf16() { return emulate_bf16; }

static bool Widen(const at::Tensor& a, const at::Tensor& b) {
  return emulate_bf16 && a.device().is_cpu() && a.scalar_type() == at::kBFloat16 && b.scalar_type() == at::kBFloat16;
}

// ---------- the weight widened tile by tile ----------
// Widened whole, a weight larger than the caches goes out to memory as float32 and comes back for the GEMM (for a 7B
// block's linear layers, 14–21% over the float32 GEMMs in two runs of `npm run bench kernels`). Widened in tiles of about 1 MB, each tile is written and used
// while in cache by one thread's single-threaded GEMM (SpreadSmallGemms), the other threads on other tiles. Tiles
// are fixed by the shapes alone, since OpenBLAS rounds a split GEMM differently from a whole one.

constexpr int64_t kTileFloats = int64_t(1) << 18;  // 1 MB of float32
constexpr int64_t kMinTiles = 4;                    // enough tiles to spread over a few cores even for small weights

static int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/** [0, n) in pieces of `size` (a multiple of 16, the last one shorter), about `wanted` of them where n allows. */
struct Pieces {
  int64_t n, size, count;
  Pieces(int64_t n, int64_t wanted) : n(n), size(CeilDiv(CeilDiv(n, wanted), 16) * 16), count(CeilDiv(n, size)) {}
  int64_t Begin(int64_t i) const { return i * size; }
  int64_t End(int64_t i) const { return std::min(n, (i + 1) * size); }
};

/** Runs task(i, slot) for every tile i, spread over the threads (slot: that thread's scratch) or in turn on slot 0. */
template <typename Task>
static void ForEachTile(int64_t count, const Task& task) {
  if (SpreadSmallGemms(count, task)) return;
  for (int64_t i = 0; i < count; i++) task(i, 0);
}

/**
 * row(r) for each of `rows` rows of `cols` values (a tile's conversions): on the threads when tiles are taken in turn,
 * inline inside a parallel region (tiles spread by SpreadSmallGemms).
 */
template <typename Row>
static void ForRows(int64_t rows, int64_t cols, const Row& row) {
  at::parallel_for(0, rows, std::max<int64_t>(1, kElementGrain / cols), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; r++) row(r);
  });
}

/** The tiled path applies: BLAS called directly, w a contiguous matrix whose `side` (0: rows, 1: columns) x's last dimension matches (else libtorch's path, and its error). */
static bool TileWeights(const at::Tensor& x, const at::Tensor& w, int side) {
  return DirectBlas() && w.dim() == 2 && w.is_contiguous() && x.dim() >= 1 && x.size(-1) == w.size(side) && x.numel() > 0 && w.numel() > 0;
}

/** round(x·wᵀ): x [..., K], w [N, K] bf16 → [..., N] bf16; w widened in tiles of rows (output columns). */
static at::Tensor TiledLinear(const at::Tensor& x, const at::Tensor& w) {
  RECORD_FUNCTION("iclit::widened_linear", std::vector<c10::IValue>());  // the profiler's row: its GEMMs call cblas
  const int64_t N = w.size(0), K = w.size(1);
  const auto x32 = WidenToFloat(x).contiguous();
  const int64_t rows = x32.numel() / K;
  auto shape = x.sizes().vec();
  shape.back() = N;
  auto y = at::empty(shape, x.options());
  const Pieces cols(N, std::max(kMinTiles, CeilDiv(N * K, kTileFloats)));
  const int64_t slots = at::get_num_threads();
  auto wTiles = at::empty({slots, cols.size * K}, x32.options());
  auto yTiles = at::empty({slots, rows * cols.size}, x32.options());
  const uint16_t* wp = Bf16(w);
  const float* xp = x32.data_ptr<float>();
  uint16_t* yp = Bf16(y);
  float *wTile0 = wTiles.data_ptr<float>(), *yTile0 = yTiles.data_ptr<float>();
  ForEachTile(cols.count, [&](int64_t i, int64_t slot) {
    const int64_t n0 = cols.Begin(i), nb = cols.End(i) - n0;
    float* wt = wTile0 + slot * cols.size * K;
    float* yt = yTile0 + slot * rows * cols.size;
    ForRows(nb, K, [&](int64_t r) { WidenSpan(wp + (n0 + r) * K, wt + r * K, K); });
    Sgemm(false, true, rows, nb, K, 1.0f, xp, K, wt, K, 0.0f, yt, nb);  // [rows, nb]
    ForRows(rows, nb, [&](int64_t r) { RoundSpan(yt + r * nb, yp + r * N + n0, nb); });
  });
  return y;
}

/** round(g·w): g [..., N] float32 (the widened gradient), w [N, K] bf16 → [..., K] bf16; w widened in tiles of columns × blocks of rows. */
static at::Tensor TiledInputGrad(const at::Tensor& g, const at::Tensor& w) {
  RECORD_FUNCTION("iclit::widened_input_grad", std::vector<c10::IValue>());
  const int64_t N = w.size(0), K = w.size(1);
  const auto g32 = g.contiguous();
  const int64_t rows = g32.numel() / N;
  auto gx = at::empty({rows, K}, g32.options());
  // each column tile sums over N in blocks of w's rows (beta 1 after the first), about 1 MB of w per block
  const Pieces cols(K, kMinTiles);
  const int64_t block = std::min(N, std::max<int64_t>(64, kTileFloats / cols.size / 16 * 16));
  const int64_t slots = at::get_num_threads();
  auto wTiles = at::empty({slots, block * cols.size}, g32.options());
  const uint16_t* wp = Bf16(w);
  const float* gp = g32.data_ptr<float>();
  float *gxp = gx.data_ptr<float>(), *wTile0 = wTiles.data_ptr<float>();
  ForEachTile(cols.count, [&](int64_t i, int64_t slot) {
    const int64_t k0 = cols.Begin(i), kc = cols.End(i) - k0;
    float* wt = wTile0 + slot * block * cols.size;
    for (int64_t n0 = 0; n0 < N; n0 += block) {
      const int64_t nb = std::min(block, N - n0);
      ForRows(nb, kc, [&](int64_t r) { WidenSpan(wp + (n0 + r) * K + k0, wt + r * kc, kc); });
      Sgemm(false, false, rows, kc, nb, 1.0f, gp + n0, N, wt, kc, n0 == 0 ? 0.0f : 1.0f, gxp + k0, K);  // [rows, kc]
    }
  });
  auto shape = g.sizes().vec();
  shape.back() = K;
  return RoundToBf16(gx).reshape(shape);
}

// x [..., in] bf16, w [out, in] bf16 (and b [out] bf16 when HasBias) → [..., out] bf16.
template <bool HasBias>
struct WidenedLinear {
  static at::Tensor Run(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w, const c10::optional<at::Tensor>& b) {
    ctx->save_for_backward({x, w});
    if (!HasBias && TileWeights(x, w, 1)) return TiledLinear(x, w);
    c10::optional<at::Tensor> b32;
    if (b) b32 = b->to(at::kFloat);
    return RoundToBf16(at::linear(WidenToFloat(x), WidenToFloat(w), b32));
  }
  static variable_list Grads(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    const auto& w = saved[1];
    auto g = WidenToFloat(grads[0]);        // [..., out]
    auto g2 = g.reshape({-1, g.size(-1)});  // [rows, out]
    variable_list out(HasBias ? 3 : 2);
    if (ctx->needs_input_grad(0)) out[0] = TileWeights(g, w, 0) ? TiledInputGrad(g, w) : RoundToBf16(at::matmul(g, WidenToFloat(w)));  // [..., in]
    if (ctx->needs_input_grad(1)) out[1] = RoundToBf16(g2.t().mm(WidenToFloat(x.reshape({-1, x.size(-1)}))));  // [out, in]
    if (HasBias && ctx->needs_input_grad(2)) out[2] = g2.sum(0).to(w.scalar_type());  // [out]
    return out;
  }
};
struct WidenedLinearBias : public torch::autograd::Function<WidenedLinearBias>, WidenedLinear<true> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) { return Run(ctx, x, w, b); }
  static variable_list backward(AutogradContext* ctx, variable_list grads) { return Grads(ctx, std::move(grads)); }
};
struct WidenedLinearNoBias : public torch::autograd::Function<WidenedLinearNoBias>, WidenedLinear<false> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w) { return Run(ctx, x, w, c10::nullopt); }
  static variable_list backward(AutogradContext* ctx, variable_list grads) { return Grads(ctx, std::move(grads)); }
};

at::Tensor Linear(const at::Tensor& x, const at::Tensor& w, const c10::optional<at::Tensor>& b) {
  if (Widen(x, w)) return b ? WidenedLinearBias::apply(x, w, *b) : WidenedLinearNoBias::apply(x, w);
  return at::linear(x, w, b);
}

at::Tensor Matmul(const at::Tensor& a, const at::Tensor& b) {
  if (Widen(a, b)) return RoundToBf16(at::matmul(WidenToFloat(a), WidenToFloat(b)));
  return at::matmul(a, b);
}

}  // namespace iclit
