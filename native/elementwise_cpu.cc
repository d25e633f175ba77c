// CPU loops for the decoder's norm, rotary embedding and SwiGLU: float32, and bfloat16 on widened operands.
#include "binding.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace iclit {

/*
 * A study step on a small model runs each of these 30–60 times on [a few hundred rows, hidden] tensors; as libtorch
 * ops each is 2–9 passes with an allocation and a dispatch apiece (RMSNorm's backward alone: 9). Written as loops (rows
 * or spans split over the intra-op threads), each is one or two passes. Same definitions as the op compositions in
 * fused.cc, float32 throughout: RoPE gives the same bits, RMSNorm agrees to float rounding (its sums run in another
 * order), SwiGLU to a few roundings (its own exponential; it runs for bfloat16 only, float32 keeps libtorch's silu
 * and mul). bfloat16 runs them on widened operands and rounds once, where the composed
 * bfloat16 ops round after every op.
 */

bool UseCpuLoops(std::initializer_list<at::Tensor> ts) {
  if (!DirectKernels()) return false;
  for (const auto& t : ts) {
    if (!t.device().is_cpu() || t.scalar_type() != at::kFloat || !t.is_contiguous()) return false;
  }
  return true;
}

bool UseWidenedLoops(std::initializer_list<at::Tensor> ts) {
  if (!DirectKernels()) return false;
  for (const auto& t : ts) {
    if (!t.device().is_cpu() || t.scalar_type() != at::kBFloat16 || !t.is_contiguous()) return false;
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

// bfloat16 rows are widened into float32 scratch and the float32 results rounded back inside the same loop over
// rows, while both are in L1: the same values as converting whole tensors around the float32 loop, without the
// passes over memory. The same two spans convert whole tensors (WidenToFloat, RoundToBf16) and the linear layers'
// weight tiles (linear.cc).

/** bfloat16 → float32: the 16 bits become the high half of the float (exact). */
ICLIT_VECTOR_LOOP void WidenSpan(const uint16_t* in, float* out, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    const uint32_t bits = static_cast<uint32_t>(in[i]) << 16;
    std::memcpy(out + i, &bits, sizeof bits);
  }
}

/** float32 → bfloat16 rounded to nearest even, as c10::round_to_nearest_even (NaN stays a NaN). */
ICLIT_VECTOR_LOOP void RoundSpan(const float* in, uint16_t* out, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    uint32_t u;
    std::memcpy(&u, in + i, sizeof u);
    const uint32_t rounded = (u + 0x7fffU + ((u >> 16) & 1U)) >> 16;
    out[i] = static_cast<uint16_t>((u & 0x7fffffffU) > 0x7f800000U ? 0x7fc0U : rounded);
  }
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
  const bool bf = x.scalar_type() == at::kBFloat16;
  auto y = at::empty_like(x);
  auto shape = x.sizes().vec();
  shape.back() = 1;
  inv = at::empty(shape, x.options().dtype(at::kFloat));  // [..., 1]
  const auto w32 = w.to(at::kFloat).contiguous();
  const float* wp = w32.data_ptr<float>();
  float* ip = inv.data_ptr<float>();
  const float feps = static_cast<float>(eps);
  at::parallel_for(0, R, 16, [&](int64_t begin, int64_t end) {
    if (!bf) {
      const float* xp = x.data_ptr<float>();
      float* yp = y.data_ptr<float>();
      for (int64_t r = begin; r < end; r++) ip[r] = NormRow(xp + r * C, wp, yp + r * C, C, feps);
      return;
    }
    std::vector<float> xr(C), yr(C);
    for (int64_t r = begin; r < end; r++) {
      WidenSpan(Bf16(x) + r * C, xr.data(), C);
      ip[r] = NormRow(xr.data(), wp, yr.data(), C, feps);
      RoundSpan(yr.data(), Bf16(y) + r * C, C);
    }
  });
  return y;
}

at::Tensor RmsNormBackwardLoop(const at::Tensor& x, const at::Tensor& w, const at::Tensor& inv, const at::Tensor& g) {
  const auto [R, C] = Rows(x);
  const bool bf = x.scalar_type() == at::kBFloat16;
  auto gx = at::empty_like(x);
  const auto w32 = w.to(at::kFloat).contiguous();
  const float *wp = w32.data_ptr<float>(), *ip = inv.data_ptr<float>();
  at::parallel_for(0, R, 16, [&](int64_t begin, int64_t end) {
    std::vector<float> gh(C);
    if (!bf) {
      const float *xp = x.data_ptr<float>(), *gp = g.data_ptr<float>();
      float* op = gx.data_ptr<float>();
      for (int64_t r = begin; r < end; r++) NormGradRow(xp + r * C, wp, gp + r * C, ip[r], gh.data(), op + r * C, C);
      return;
    }
    std::vector<float> xr(C), gr(C), dr(C);
    for (int64_t r = begin; r < end; r++) {
      WidenSpan(Bf16(x) + r * C, xr.data(), C);
      WidenSpan(Bf16(g) + r * C, gr.data(), C);
      NormGradRow(xr.data(), wp, gr.data(), ip[r], gh.data(), dr.data(), C);
      RoundSpan(dr.data(), Bf16(gx) + r * C, C);
    }
  });
  return gx;
}

// ---------- RoPE ----------

/** One head row: y = x·c + rotate_half(x)·s; transposed (the backward): y = x·c + rotate_halfᵀ(x·s). */
ICLIT_VECTOR_LOOP static void RopeRow(const float* xr, const float* c, const float* s, float* yr, int64_t D, bool transpose) {
  const int64_t half = D / 2;
  if (!transpose) {
    for (int64_t j = 0; j < half; j++) yr[j] = xr[j] * c[j] + -xr[j + half] * s[j];
    for (int64_t j = half; j < D; j++) yr[j] = xr[j] * c[j] + xr[j - half] * s[j];
  } else {
    for (int64_t j = 0; j < half; j++) yr[j] = xr[j] * c[j] + xr[j + half] * s[j + half];
    for (int64_t j = half; j < D; j++) yr[j] = xr[j] * c[j] + -(xr[j - half] * s[j - half]);
  }
}

at::Tensor RopeLoop(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin, bool transpose) {
  // x [N, H, D], cos/sin [N, 1, D] (all float32, or all bfloat16)
  const int64_t N = x.size(0), H = x.size(1), D = x.size(2);
  const bool bf = x.scalar_type() == at::kBFloat16;
  auto y = at::empty_like(x);
  at::parallel_for(0, N, 8, [&](int64_t begin, int64_t end) {
    if (!bf) {
      const float *xp = x.data_ptr<float>(), *cp = cos.data_ptr<float>(), *sp = sin.data_ptr<float>();
      float* yp = y.data_ptr<float>();
      for (int64_t n = begin; n < end; n++) {
        for (int64_t h = 0; h < H; h++) RopeRow(xp + (n * H + h) * D, cp + n * D, sp + n * D, yp + (n * H + h) * D, D, transpose);
      }
      return;
    }
    std::vector<float> c(D), s(D), xr(D), yr(D);
    for (int64_t n = begin; n < end; n++) {
      WidenSpan(Bf16(cos) + n * D, c.data(), D);
      WidenSpan(Bf16(sin) + n * D, s.data(), D);
      for (int64_t h = 0; h < H; h++) {
        WidenSpan(Bf16(x) + (n * H + h) * D, xr.data(), D);
        RopeRow(xr.data(), c.data(), s.data(), yr.data(), D, transpose);
        RoundSpan(yr.data(), Bf16(y) + (n * H + h) * D, D);
      }
    }
  });
  return y;
}

// ---------- SwiGLU ----------

/**
 * e^x for x in [−87.3, 88.3] (the caller clamps, so 2ⁿ below stays a normal float): Cephes' expf — n the integer
 * nearest x·log₂e, r = x − n·ln 2 in two parts, a degree-5 polynomial — a couple of ulp from e^x at most. No floor
 * and no float→int conversion (GCC keeps either scalar under the default trapping-math), so the loops below
 * vectorise, where libm's expf is a scalar call per element.
 */
static inline __attribute__((always_inline)) float ExpClamped(float x) {
  // x·log₂e + 1.5·2²³ + 127 rounds x·log₂e to the nearest integer n and holds n + 127 in its low mantissa bits
  const float biased = x * 1.44269504088896341f + 12583039.0f;
  const float n = biased - 12583039.0f;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * (r * r) + r + 1.0f;
  uint32_t bits;
  std::memcpy(&bits, &biased, sizeof bits);
  bits <<= 23;  // (n + 127) << 23: the float 2ⁿ
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return y * scale;
}

// Values go in blocks of kExpBlock (ForBlocks) through three plain loops (clamp, exponential, the rest): written as
// one loop, the compiler turns the clamp into branches around the polynomial and leaves the loop scalar.
constexpr int64_t kExpBlock = 256;

/** sig[i] = σ(g[i]) = 1 / (1 + e^(−g)) for i < n ≤ kExpBlock. */
ICLIT_VECTOR_LOOP static void Sigmoid(const float* g, float* sig, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    const float x = -g[i];
    sig[i] = x > 88.3f ? 88.3f : (x < -87.3f ? -87.3f : x);
  }
  for (int64_t i = 0; i < n; i++) sig[i] = 1.0f / (1.0f + ExpClamped(sig[i]));
}

/** y = silu(g)·u for n ≤ kExpBlock values. */
ICLIT_VECTOR_LOOP static void SwiGluSpan(const float* g, const float* u, float* y, int64_t n) {
  float sig[kExpBlock];
  Sigmoid(g, sig, n);
  for (int64_t i = 0; i < n; i++) y[i] = g[i] * sig[i] * u[i];
}

/** dg = dy·u·σ(g)·(1 + g·(1 − σ(g))) (silu's derivative, as libtorch's silu_backward), du = dy·silu(g), for n ≤ kExpBlock values. */
ICLIT_VECTOR_LOOP static void SwiGluGradSpan(const float* g, const float* u, const float* dy, float* dg, float* du, int64_t n) {
  float sig[kExpBlock];
  Sigmoid(g, sig, n);
  for (int64_t i = 0; i < n; i++) {
    const float x = g[i], s = sig[i];
    dg[i] = dy[i] * u[i] * (s * (1.0f + x * (1.0f - s)));
    du[i] = dy[i] * (x * s);
  }
}

/** Calls span(offset, count) over 0..n on the intra-op threads, in pieces of at most kExpBlock. */
template <typename Span>
static void ForBlocks(int64_t n, const Span& span) {
  at::parallel_for(0, n, kElementGrain, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; b += kExpBlock) span(b, std::min(kExpBlock, end - b));
  });
}

at::Tensor WidenToFloat(const at::Tensor& x) {
  if (!UseWidenedLoops({x})) return x.to(at::kFloat);
  auto y = at::empty(x.sizes(), x.options().dtype(at::kFloat));
  const uint16_t* in = Bf16(x);
  float* out = y.data_ptr<float>();
  ForBlocks(x.numel(), [&](int64_t b, int64_t m) { WidenSpan(in + b, out + b, m); });
  return y;
}

at::Tensor RoundToBf16(const at::Tensor& x) {
  if (!UseCpuLoops({x})) return x.to(at::kBFloat16);
  auto y = at::empty(x.sizes(), x.options().dtype(at::kBFloat16));
  const float* in = x.data_ptr<float>();
  uint16_t* out = Bf16(y);
  ForBlocks(x.numel(), [&](int64_t b, int64_t m) { RoundSpan(in + b, out + b, m); });
  return y;
}

at::Tensor ToDtype(const at::Tensor& t, at::ScalarType dtype) {
  if (t.scalar_type() == at::kBFloat16 && dtype == at::kFloat) return WidenToFloat(t);
  if (t.scalar_type() == at::kFloat && dtype == at::kBFloat16) return RoundToBf16(t);
  return t.to(dtype);
}

at::Tensor SwiGluForwardLoop(const at::Tensor& g, const at::Tensor& u) {
  auto y = at::empty_like(g);
  ForBlocks(g.numel(), [&](int64_t b, int64_t m) {
    float gb[kExpBlock], ub[kExpBlock], yb[kExpBlock];
    WidenSpan(Bf16(g) + b, gb, m);
    WidenSpan(Bf16(u) + b, ub, m);
    SwiGluSpan(gb, ub, yb, m);
    RoundSpan(yb, Bf16(y) + b, m);
  });
  return y;
}

std::pair<at::Tensor, at::Tensor> SwiGluBackwardLoop(const at::Tensor& g, const at::Tensor& u, const at::Tensor& dy) {
  auto dg = at::empty_like(g), du = at::empty_like(u);
  ForBlocks(g.numel(), [&](int64_t b, int64_t m) {
    float gb[kExpBlock], ub[kExpBlock], dyb[kExpBlock], dgb[kExpBlock], dub[kExpBlock];
    WidenSpan(Bf16(g) + b, gb, m);
    WidenSpan(Bf16(u) + b, ub, m);
    WidenSpan(Bf16(dy) + b, dyb, m);
    SwiGluGradSpan(gb, ub, dyb, dgb, dub, m);
    RoundSpan(dgb, Bf16(dg) + b, m);
    RoundSpan(dub, Bf16(du) + b, m);
  });
  return {dg, du};
}

}  // namespace iclit
