// Packed causal attention on the CPU in float32 through BLAS directly: per sequence and head, GEMMs on strided views, softmax in a loop.
#include "binding.h"

#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

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

/** Forward of the query heads of KV head `kv` in one sequence (rows off..off+L): their P (float32 [L, L] each, zero outside the band) and out columns. */
void ForwardGroup(const float* q, const float* k, const float* v, float* out, float* P, int64_t L, const Layout& s, float scale, int64_t window, int64_t kv) {
  const int64_t qs = s.H * s.D, ks = s.KV * s.D;
  for (int64_t h = kv * s.G; h < (kv + 1) * s.G; h++) {
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

/** Backward of the query heads of KV head `kv` in one sequence: their gq columns, and gk, gv columns of `kv` (zeroed by the caller: the group's heads add up). */
void BackwardGroup(const float* q, const float* k, const float* v, const float* P, const float* go, float* gq, float* gk, float* gv, float* dS, int64_t L,
                   const Layout& s, float scale, int64_t kv) {
  const int64_t qs = s.H * s.D, ks = s.KV * s.D;
  for (int64_t h = kv * s.G; h < (kv + 1) * s.G; h++) {
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

/** Where sequence i's rows (off) and its P block (pOff) start, and the longest length. */
struct Packing {
  std::vector<int64_t> off, pOff;
  int64_t lmax = 0;
};

Packing Pack(const std::vector<int64_t>& lengths, const Layout& s) {
  Packing p;
  int64_t off = 0, pOff = 0;
  for (auto L : lengths) {
    p.off.push_back(off);
    p.pOff.push_back(pOff);
    off += L;
    pOff += s.H * L * L;
    p.lmax = std::max(p.lmax, L);
  }
  return p;
}

/**
 * Runs fn(sequence, kv head, thread) over every (sequence, KV head) pair: spread over the threads
 * (SpreadSmallGemms), since pairs write disjoint output columns and each adds its own heads in order; with fewer
 * pairs than threads (one long sequence of few KV heads) in turn, with multi-threaded GEMMs where they are big.
 */
template <typename Fn>
void ForEachGroup(const std::vector<int64_t>& lengths, const Layout& s, const Fn& fn) {
  const int64_t S = static_cast<int64_t>(lengths.size());
  if (SpreadSmallGemms(S * s.KV, [&](int64_t t, int thread) { fn(t / s.KV, t % s.KV, thread); })) return;
  for (int64_t i = 0; i < S; i++) {
    const SmallGemmScope single(s.G * lengths[i] * lengths[i] * s.D < kSmallGemm);
    for (int64_t kv = 0; kv < s.KV; kv++) fn(i, kv, 0);
  }
}

struct BlasAttentionFn : public torch::autograd::Function<BlasAttentionFn> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& q0, const at::Tensor& k0, const at::Tensor& v0, std::vector<int64_t> lengths,
                            double scale, int64_t window) {
    RECORD_FUNCTION("iclit::packed_attention", std::vector<c10::IValue>());  // a profiler row for the forward (backward has its node's)
    // bfloat16: q, k, v widened exactly, scores, softmax and P·V in float32, the output rounded to bfloat16 once (as a
    // fused attention kernel on a GPU accumulates); backward widens the gradient and rounds q's, k's and v's back
    const auto dtype = q0.scalar_type();
    const auto q = ToDtype(q0.contiguous(), at::kFloat), k = ToDtype(k0.contiguous(), at::kFloat), v = ToDtype(v0.contiguous(), at::kFloat);
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
    const Packing pk = Pack(lengths, s);
    const float *qp = q.data_ptr<float>(), *kp = k.data_ptr<float>(), *vp = v.data_ptr<float>();
    float *op = out.data_ptr<float>(), *pp = P.data_ptr<float>();
    ForEachGroup(lengths, s, [&](int64_t i, int64_t kv, int) {
      const int64_t off = pk.off[i];
      ForwardGroup(qp + off * s.H * s.D, kp + off * s.KV * s.D, vp + off * s.KV * s.D, op + off * s.H * s.D, pp + pk.pOff[i], lengths[i], s, static_cast<float>(scale), window, kv);
    });
    ctx->save_for_backward({q, k, v, P});
    ctx->saved_data["lengths"] = c10::IValue(lengths);
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["dtype"] = static_cast<int64_t>(dtype);
    return ToDtype(out, dtype);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto &q = saved[0], &k = saved[1], &v = saved[2], &P = saved[3];
    const auto lengths = ctx->saved_data["lengths"].toIntVector();
    const float scale = static_cast<float>(ctx->saved_data["scale"].toDouble());
    const auto dtype = static_cast<at::ScalarType>(ctx->saved_data["dtype"].toInt());
    const auto g = ToDtype(grads[0].contiguous(), at::kFloat);  // [N, H·D]
    const Layout s{q.size(1), k.size(1), q.size(2), q.size(1) / k.size(1)};
    auto gq = at::empty_like(q), gk = at::zeros_like(k), gv = at::zeros_like(v);
    const Packing pk = Pack(lengths, s);
    auto dS = at::empty({at::get_num_threads() * pk.lmax * pk.lmax}, q.options());  // one [L, L] scratch per thread
    const float *qp = q.data_ptr<float>(), *kp = k.data_ptr<float>(), *vp = v.data_ptr<float>(), *pp = P.data_ptr<float>(), *gp = g.data_ptr<float>();
    float *gqp = gq.data_ptr<float>(), *gkp = gk.data_ptr<float>(), *gvp = gv.data_ptr<float>(), *dSp = dS.data_ptr<float>();
    ForEachGroup(lengths, s, [&](int64_t i, int64_t kv, int thread) {
      const int64_t qo = pk.off[i] * s.H * s.D, ko = pk.off[i] * s.KV * s.D;
      BackwardGroup(qp + qo, kp + ko, vp + ko, pp + pk.pOff[i], gp + qo, gqp + qo, gkp + ko, gvp + ko, dSp + thread * pk.lmax * pk.lmax, lengths[i], s, scale, kv);
    });
    return {ToDtype(gq, dtype), ToDtype(gk, dtype), ToDtype(gv, dtype), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

bool UseBlasAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  // UseCpuLoops without its contiguity rule: the kernel takes contiguous copies itself
  const auto dt = q.scalar_type();
  return DirectBlas() && q.device().is_cpu() && (dt == at::kFloat || dt == at::kBFloat16) && k.scalar_type() == dt && v.scalar_type() == dt;
}

at::Tensor BlasAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const std::vector<int64_t>& lengths, double scale, int64_t window) {
  return BlasAttentionFn::apply(q, k, v, lengths, scale, window);
}


}  // namespace iclit
