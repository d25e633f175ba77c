// Linear layers and matmuls, with bfloat16 GEMMs widened to float32 on CPUs without native bfloat16.
#include "binding.h"

#include <torch/csrc/autograd/custom_function.h>

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

// x [..., in] bf16, w [out, in] bf16 (and b [out] bf16 when HasBias) → [..., out] bf16.
template <bool HasBias>
struct WidenedLinear {
  static at::Tensor Run(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w, const c10::optional<at::Tensor>& b) {
    ctx->save_for_backward({x, w});
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
    if (ctx->needs_input_grad(0)) out[0] = RoundToBf16(at::matmul(g, WidenToFloat(w)));  // [..., in]
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
