// Packed causal attention on the CPU in float32 through BLAS directly: per sequence and head, GEMMs on strided views, softmax in a loop.
#include "binding.h"

#include <torch/csrc/autograd/custom_function.h>

#include <cmath>
#include <limits>

namespace iclit {

/*
 * The study's sequences are short (tens of tokens), so one sequence's attention is a few GEMMs of [L, 64]·[64, L]:
 * through libtorch ops each costs more in dispatch, views, permuted copies and bmm's per-batch loop than in
 * arithmetic (attention was 8% of a LoRA step at under 2% of its FLOPs). Here every head's GEMM reads q, k, v where
 * they lie ([N, heads, D] rows, leading dimension heads·D) and writes the output and gradients in place, with the
 * causal softmax and its backward as plain loops. Same definition as PackedAttentionFn (fused.cc): softmax of
 * scale·q·kᵀ over keys s ≤ t (and t − s < window), in float32; outputs agree to float rounding.
 */

namespace {

constexpr bool kAsIs = false, kT = true;  // op(X) = X, Xᵀ

struct Layout {
  int64_t H, KV, D, G;
};

/** First key row t sees (inclusive) and one past its last: the causal band, narrowed by a sliding window. */
inline int64_t FirstKey(int64_t t, int64_t window) { return window > 0 && t - window + 1 > 0 ? t - window + 1 : 0; }

/** Forward of one sequence (rows off..off+L): P (float32 [H, L, L], zero outside the band) and out [L, H·D]. */
void ForwardSequence(const float* q, const float* k, const float* v, float* out, float* P, int64_t L, const Layout& s, float scale, int64_t window) {
  const int64_t qs = s.H * s.D, ks = s.KV * s.D;
  for (int64_t h = 0; h < s.H; h++) {
    const int64_t kv = h / s.G;
    float* Ph = P + h * L * L;
    Sgemm(kAsIs, kT, L, L, s.D, scale, q + h * s.D, qs, k + kv * s.D, ks, 0.0f, Ph, L);  // [L, L]
    for (int64_t t = 0; t < L; t++) {
      float* row = Ph + t * L;
      const int64_t first = FirstKey(t, window);
      float mx = -std::numeric_limits<float>::infinity();
      for (int64_t j = first; j <= t; j++) mx = std::max(mx, row[j]);
      float sum = 0;
      for (int64_t j = first; j <= t; j++) sum += row[j] = std::exp(row[j] - mx);
      const float inv = 1.0f / sum;
      for (int64_t j = 0; j < first; j++) row[j] = 0;
      for (int64_t j = first; j <= t; j++) row[j] *= inv;
      for (int64_t j = t + 1; j < L; j++) row[j] = 0;
    }
    Sgemm(kAsIs, kAsIs, L, s.D, L, 1.0f, Ph, L, v + kv * s.D, ks, 0.0f, out + h * s.D, qs);  // [L, D]
  }
}

/** Backward of one sequence: gq, gk, gv rows of the sequence (gk and gv zeroed by the caller: heads of a group add up). */
void BackwardSequence(const float* q, const float* k, const float* v, const float* P, const float* go, float* gq, float* gk, float* gv, float* dS, int64_t L,
                      const Layout& s, float scale) {
  const int64_t qs = s.H * s.D, ks = s.KV * s.D;
  for (int64_t h = 0; h < s.H; h++) {
    const int64_t kv = h / s.G;
    const float* Ph = P + h * L * L;
    Sgemm(kT, kAsIs, L, s.D, L, 1.0f, Ph, L, go + h * s.D, qs, 1.0f, gv + kv * s.D, ks);    // dV += Pᵀ dO
    Sgemm(kAsIs, kT, L, L, s.D, 1.0f, go + h * s.D, qs, v + kv * s.D, ks, 0.0f, dS, L);    // dP = dO Vᵀ
    for (int64_t t = 0; t < L; t++) {  // dS = P ⊙ (dP − Σ P dP) · scale; P = 0 off the band, so dS is too
      float* row = dS + t * L;
      const float* p = Ph + t * L;
      float dot = 0;
      for (int64_t j = 0; j < L; j++) dot += p[j] * row[j];
      for (int64_t j = 0; j < L; j++) row[j] = p[j] * (row[j] - dot) * scale;
    }
    Sgemm(kAsIs, kAsIs, L, s.D, L, 1.0f, dS, L, k + kv * s.D, ks, 0.0f, gq + h * s.D, qs);  // dQ = dS K
    Sgemm(kT, kAsIs, L, s.D, L, 1.0f, dS, L, q + h * s.D, qs, 1.0f, gk + kv * s.D, ks);    // dK += dSᵀ Q
  }
}

struct BlasAttentionFn : public torch::autograd::Function<BlasAttentionFn> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& q0, const at::Tensor& k0, const at::Tensor& v0, std::vector<int64_t> lengths,
                            double scale, int64_t window) {
    const auto q = q0.contiguous(), k = k0.contiguous(), v = v0.contiguous();
    if (q.dim() != 3 || k.sizes() != v.sizes() || k.dim() != 3 || k.size(0) != q.size(0) || k.size(2) != q.size(2) || q.size(1) % k.size(1) != 0) {
      throw std::runtime_error("packedAttention: q must be [N, H, D] and k, v [N, KV, D] with KV dividing H");
    }
    const Layout s{q.size(1), k.size(1), q.size(2), q.size(1) / k.size(1)};
    const int64_t N = q.size(0);
    int64_t pSize = 0, total = 0;
    for (auto L : lengths) {
      if (L <= 0) throw std::runtime_error("packedAttention: every sequence needs a token");
      pSize += s.H * L * L;
      total += L;
    }
    if (total != N) throw std::runtime_error("packedAttention: sequence lengths do not add up to the rows");
    auto out = at::empty({N, s.H * s.D}, q.options());
    auto P = at::empty({pSize}, q.options());
    int64_t off = 0, pOff = 0;
    for (auto L : lengths) {
      const SmallGemmScope single(s.G * L * L * s.D < kSmallGemm);
      ForwardSequence(q.data_ptr<float>() + off * s.H * s.D, k.data_ptr<float>() + off * s.KV * s.D, v.data_ptr<float>() + off * s.KV * s.D,
                      out.data_ptr<float>() + off * s.H * s.D, P.data_ptr<float>() + pOff, L, s, static_cast<float>(scale), window);
      off += L;
      pOff += s.H * L * L;
    }
    ctx->save_for_backward({q, k, v, P});
    ctx->saved_data["lengths"] = c10::IValue(lengths);
    ctx->saved_data["scale"] = scale;
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto &q = saved[0], &k = saved[1], &v = saved[2], &P = saved[3];
    const auto lengths = ctx->saved_data["lengths"].toIntVector();
    const float scale = static_cast<float>(ctx->saved_data["scale"].toDouble());
    const auto g = grads[0].contiguous();  // [N, H·D]
    const Layout s{q.size(1), k.size(1), q.size(2), q.size(1) / k.size(1)};
    auto gq = at::empty_like(q), gk = at::zeros_like(k), gv = at::zeros_like(v);
    int64_t lmax = 0;
    for (auto L : lengths) lmax = std::max(lmax, L);
    auto dS = at::empty({lmax * lmax}, q.options());
    int64_t off = 0, pOff = 0;
    for (auto L : lengths) {
      const SmallGemmScope single(s.G * L * L * s.D < kSmallGemm);
      const int64_t qo = off * s.H * s.D, ko = off * s.KV * s.D;
      BackwardSequence(q.data_ptr<float>() + qo, k.data_ptr<float>() + ko, v.data_ptr<float>() + ko, P.data_ptr<float>() + pOff, g.data_ptr<float>() + qo,
                       gq.data_ptr<float>() + qo, gk.data_ptr<float>() + ko, gv.data_ptr<float>() + ko, dS.data_ptr<float>(), L, s, scale);
      off += L;
      pOff += s.H * L * L;
    }
    return {gq, gk, gv, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

bool UseBlasAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  // UseCpuLoops without its contiguity rule: the kernel takes contiguous copies itself
  const auto dt = q.scalar_type();
  return DirectBlas() && q.device().is_cpu() && (dt == at::kFloat || dt == at::kBFloat16) && k.scalar_type() == dt && v.scalar_type() == dt;
}

at::Tensor BlasAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const std::vector<int64_t>& lengths, double scale, int64_t window) {
  if (q.scalar_type() == at::kFloat) return BlasAttentionFn::apply(q, k, v, lengths, scale, window);
  // bfloat16: q, k, v widened exactly, scores, softmax and P·V in float32, the output rounded to bfloat16 once (as a
  // fused attention kernel on a GPU accumulates); the casts' backward rounds the gradients back to bfloat16.
  return BlasAttentionFn::apply(q.to(at::kFloat), k.to(at::kFloat), v.to(at::kFloat), lengths, scale, window).to(q.scalar_type());
}


}  // namespace iclit
