// Float32 CPU loops for the decoder's norm and rotary embedding: one pass over the rows where libtorch ops make several.
#include "binding.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <vector>

namespace iclit {

/*
 * A study step on a small model runs each of these 60 times on [a few hundred rows, hidden] tensors; as libtorch
 * ops each is 4–9 passes with an allocation and a dispatch apiece (RMSNorm's backward alone: 9). Written as loops over
 * rows (rows split over the intra-op threads), each is one or two passes. Same definitions as the op compositions in
 * fused.cc, float32 throughout: RoPE gives the same bits, RMSNorm agrees to float rounding (its sums run in another order).
 */

bool UseCpuLoops(std::initializer_list<at::Tensor> ts) {
  if (!DirectKernels()) return false;
  for (const auto& t : ts) {
    if (!t.device().is_cpu() || t.scalar_type() != at::kFloat || !t.is_contiguous()) return false;
  }
  return true;
}

/** Rows of `x` [..., C] as (count, C). */
static std::pair<int64_t, int64_t> Rows(const at::Tensor& x) { return {x.numel() / x.size(-1), x.size(-1)}; }

// Row kernels, vectorised: O3 for these loops alone, and an AVX2 clone picked at load time where the CPU has it.
#define ICLIT_VECTOR_LOOP __attribute__((optimize("O3"), target_clones("avx2", "default")))

/** Σ a·b over n floats in eight partial sums (so the loop vectorises without reassociating one running sum). */
static inline __attribute__((always_inline)) float Dot(const float* a, const float* b, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    for (int u = 0; u < 8; u++) acc[u] += a[j + u] * b[j + u];
  }
  float sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; j < n; j++) sum += a[j] * b[j];
  return sum;
}

/** One row of RMSNorm: y = w ⊙ x·s with s = (mean x² + eps)^(-1/2); returns s. */
ICLIT_VECTOR_LOOP static float NormRow(const float* x, const float* w, float* y, int64_t C, float eps) {
  const float s = 1.0f / std::sqrt(Dot(x, x, C) / static_cast<float>(C) + eps);
  for (int64_t j = 0; j < C; j++) y[j] = w[j] * (x[j] * s);
  return s;
}

/** One row of RMSNorm's backward: dx = s·(dx̂ − x̂·mean(dx̂ ⊙ x̂)) with x̂ = x·s, dx̂ = g ⊙ w (`gh` is scratch). */
ICLIT_VECTOR_LOOP static void NormGradRow(const float* x, const float* w, const float* g, float s, float* gh, float* dx, int64_t C) {
  for (int64_t j = 0; j < C; j++) gh[j] = g[j] * w[j];
  const float mean = Dot(gh, x, C) * s / static_cast<float>(C);
  for (int64_t j = 0; j < C; j++) dx[j] = (gh[j] - x[j] * s * mean) * s;
}

// ---------- RMSNorm ----------

at::Tensor RmsNormForwardLoop(const at::Tensor& x, const at::Tensor& w, double eps, at::Tensor& inv) {
  const auto [R, C] = Rows(x);
  auto y = at::empty_like(x);
  auto shape = x.sizes().vec();
  shape.back() = 1;
  inv = at::empty(shape, x.options());  // [..., 1]
  const float *xp = x.data_ptr<float>(), *wp = w.data_ptr<float>();
  float *yp = y.data_ptr<float>(), *ip = inv.data_ptr<float>();
  const float feps = static_cast<float>(eps);
  at::parallel_for(0, R, 16, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; r++) ip[r] = NormRow(xp + r * C, wp, yp + r * C, C, feps);
  });
  return y;
}

at::Tensor RmsNormBackwardLoop(const at::Tensor& x, const at::Tensor& w, const at::Tensor& inv, const at::Tensor& g) {
  const auto [R, C] = Rows(x);
  auto gx = at::empty_like(x);
  const float *xp = x.data_ptr<float>(), *wp = w.data_ptr<float>(), *ip = inv.data_ptr<float>(), *gp = g.data_ptr<float>();
  float* op = gx.data_ptr<float>();
  at::parallel_for(0, R, 16, [&](int64_t begin, int64_t end) {
    std::vector<float> gh(C);
    for (int64_t r = begin; r < end; r++) NormGradRow(xp + r * C, wp, gp + r * C, ip[r], gh.data(), op + r * C, C);
  });
  return gx;
}

// ---------- RoPE ----------

at::Tensor RopeLoop(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin, bool transpose) {
  // x [N, H, D], cos/sin [N, 1, D]: y = x·cos + rotate_half(x)·sin; transposed (the backward): y = x·cos + rotate_halfᵀ(x·sin)
  const int64_t N = x.size(0), H = x.size(1), D = x.size(2), half = D / 2;
  auto y = at::empty_like(x);
  const float *xp = x.data_ptr<float>(), *cp = cos.data_ptr<float>(), *sp = sin.data_ptr<float>();
  float* yp = y.data_ptr<float>();
  at::parallel_for(0, N, 8, [&](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; n++) {
      const float *c = cp + n * D, *s = sp + n * D;
      for (int64_t h = 0; h < H; h++) {
        const float* xr = xp + (n * H + h) * D;
        float* yr = yp + (n * H + h) * D;
        if (!transpose) {
          for (int64_t j = 0; j < half; j++) yr[j] = xr[j] * c[j] + -xr[j + half] * s[j];
          for (int64_t j = half; j < D; j++) yr[j] = xr[j] * c[j] + xr[j - half] * s[j];
        } else {
          for (int64_t j = 0; j < half; j++) yr[j] = xr[j] * c[j] + xr[j + half] * s[j + half];
          for (int64_t j = half; j < D; j++) yr[j] = xr[j] * c[j] + -(xr[j - half] * s[j - half]);
        }
      }
    }
  });
  return y;
}

}  // namespace iclit
