// Composite ops the decoder runs many times (one crossing each): RMSNorm, RoPE, SwiGLU, packed attention, segment LoRA, dropout masks.
#include "binding.h"

#include <torch/csrc/autograd/custom_function.h>

#include <atomic>
#include <mutex>
#include <limits>
#include <algorithm>
#include <map>
#include <tuple>
#include <cmath>

#include <ATen/Parallel.h>

namespace iclit {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// ---------- norm and rotary embedding ----------

// Norm, RoPE, SwiGLU and attention are autograd functions with their backward written out: the composed ops would
// record a node per step (and zero-filled gradients for every narrow), a dozen elementwise passes where a few do. On
// the CPU they run as loops (elementwise_cpu.cc, attention_cpu.cc); elsewhere as the composed ops, whose results
// the loops match to float rounding.

/** LlamaRMSNorm: normalise in float32, scale by the weight in the compute dtype. x [..., C], w [C]. */
struct RmsNormFn : public torch::autograd::Function<RmsNormFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w, double eps) {
    RECORD_FUNCTION("iclit::rms_norm", std::vector<c10::IValue>());  // profiler rows for the custom functions' forwards
    if (UseCpuLoops({x, w}) || UseWidenedLoops({x, w})) {
      at::Tensor inv;
      auto y = RmsNormForwardLoop(x, w, eps, inv);
      ctx->save_for_backward({x, w, inv});
      return y;
    }
    auto x32 = x.to(at::kFloat);
    auto inv = x32.square().mean(-1, true).add(eps).rsqrt();  // [..., 1]
    ctx->save_for_backward({x, w, inv});
    return w.mul(x32.mul(inv).to(x.scalar_type()));  // [..., C]
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto &x = saved[0], &w = saved[1], &inv = saved[2];
    const auto& g = grads[0];
    at::Tensor gx, gw;
    const bool loop = UseCpuLoops({x, w, inv, g}) || (UseWidenedLoops({x, w, g}) && UseCpuLoops({inv}));
    if (loop && ctx->needs_input_grad(0)) gx = RmsNormBackwardLoop(x, w, inv, g);
    if (loop && !ctx->needs_input_grad(1)) return {gx, gw, at::Tensor()};
    auto xhat = x.to(at::kFloat).mul(inv);  // [..., C]
    if (!loop && ctx->needs_input_grad(0)) {
      auto gh = g.mul(w).to(at::kFloat);  // d/d(x̂)
      // x̂ = x·inv with inv = (mean x² + eps)^(-1/2): dx = inv·(dx̂ − x̂·mean(dx̂ ⊙ x̂))
      gx = gh.sub(xhat.mul(gh.mul(xhat).mean(-1, true))).mul_(inv).to(x.scalar_type());
    }
    if (ctx->needs_input_grad(1)) gw = g.mul(xhat.to(x.scalar_type())).reshape({-1, w.size(0)}).sum(0).to(w.scalar_type());
    return {gx, gw, at::Tensor()};
  }
};
static at::Tensor RmsNorm(const at::Tensor& x, const at::Tensor& w, double eps) { return RmsNormFn::apply(x, w, eps); }

/** rotate_half(x) = [−x2, x1] along the last dimension; its transpose is [x2, −x1]. */
static at::Tensor RotateHalf(const at::Tensor& x, bool transpose) {
  const int64_t d = x.size(-1);
  auto x1 = x.narrow(-1, 0, d / 2);
  auto x2 = x.narrow(-1, d / 2, d - d / 2);
  return transpose ? at::cat({x2, x1.neg()}, -1) : at::cat({x2.neg(), x1}, -1);
}

/** x·cos + rotate_half(x)·sin; cos/sin broadcast against x [..., D] and take no gradient (they are tables). */
struct RopeFn : public torch::autograd::Function<RopeFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
    RECORD_FUNCTION("iclit::rope", std::vector<c10::IValue>());
    ctx->save_for_backward({cos, sin});
    if (auto y = Loop(x, cos, sin, false); y.defined()) return y;
    return x.mul(cos).add(RotateHalf(x, false).mul(sin));
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto& g = grads[0];
    if (auto gx = Loop(g, saved[0], saved[1], true); gx.defined()) return {gx, at::Tensor(), at::Tensor()};
    return {g.mul(saved[0]).add(RotateHalf(g.mul(saved[1]), true)), at::Tensor(), at::Tensor()};
  }
  /** The loop where it applies, undefined elsewhere; it takes the decoder's layout: x [N, H, D] (D even), tables [N, 1, D]. */
  static at::Tensor Loop(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin, bool transpose) {
    const bool layout = x.dim() == 3 && x.size(2) % 2 == 0 && cos.sizes() == sin.sizes() && cos.dim() == 3 && cos.size(0) == x.size(0) && cos.size(1) == 1 &&
                        cos.size(2) == x.size(2);
    if (layout && (UseCpuLoops({x, cos, sin}) || UseWidenedLoops({x, cos, sin}))) return RopeLoop(x, cos, sin, transpose);
    return at::Tensor();
  }
};
static at::Tensor Rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) { return RopeFn::apply(x, cos, sin); }

// ---------- SwiGLU ----------

/**
 * silu(g) ⊙ u (the MLP's gate) in bfloat16 on the CPU: one float32 pass each way on widened operands, each result
 * rounded once, where libtorch's bfloat16 silu, mul and their backward convert on every op. float32 keeps libtorch's
 * silu and mul (the loop only matched them when it was written, and float32 results stay libtorch's).
 */
struct SwiGluFn : public torch::autograd::Function<SwiGluFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& g, const at::Tensor& u) {
    RECORD_FUNCTION("iclit::swiglu", std::vector<c10::IValue>());
    ctx->save_for_backward({g, u});
    return SwiGluForwardLoop(g, u);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto &g = saved[0], &u = saved[1];
    auto [dg, du] = SwiGluBackwardLoop(g, u, grads[0].to(g.scalar_type()).contiguous());
    return {dg, du};
  }
};
static at::Tensor SwiGlu(const at::Tensor& g, const at::Tensor& u) {
  if (g.sizes() != u.sizes()) throw std::runtime_error("swiglu: gate and up must have one shape");
  if (UseWidenedLoops({g, u})) return SwiGluFn::apply(g, u);
  return at::silu(g).mul(u);
}

// ---------- attention over packed sequences ----------

/** [L, L], true where query t may not see key s (s > t, or t − s ≥ window); kept per (L, window, device), 32 MiB at most. */
static at::Tensor BlockedMask(int64_t L, int64_t window, const at::Device& device) {
  static std::mutex mu;
  // Never destroyed: freeing CUDA tensors in a static destructor would run after the CUDA runtime shut down.
  static auto* cache = new std::map<std::tuple<int64_t, int64_t, std::string>, at::Tensor>();
  static int64_t bytes = 0;
  const auto key = std::make_tuple(L, window, device.str());
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache->find(key);
  if (it != cache->end()) return it->second;
  if (bytes + L * L > (32 << 20)) {  // every length up to ~450 fits in 32 MiB; past that, start over
    cache->clear();
    bytes = 0;
  }
  bytes += L * L;
  at::NoGradGuard ng;
  auto ok = at::ones({L, L}, at::TensorOptions().dtype(at::kBool).device(device)).tril();
  if (window > 0) ok = ok.triu(-(window - 1));
  return (*cache)[key] = ok.logical_not();
}

/**
 * Causal self-attention of sequences packed one after another: q [N, H, D], k and v [N, KV, D] with N = Σ lengths;
 * returns [N, H·D]. Each sequence attends only within itself, so nothing is padded and the scores of one sequence
 * are [H, L, L] at most. Grouped-query heads share their key/value head by a reshape (query head h uses KV head
 * h / (H/KV), as HF's repeat_kv), not by copying keys. Softmax runs in float32, as HF's eager attention does.
 * Backward per sequence: dV = Pᵀ dO, dP = dO Vᵀ, dS = softmax′(dP)·scale (masked keys have P = 0, so dS = 0
 * there), dQ = dS K, dK = dSᵀ Q — GEMMs through Matmul (widened bfloat16 where the CPU lacks it).
 */
struct PackedAttentionFn : public torch::autograd::Function<PackedAttentionFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, std::vector<int64_t> lengths, double scale,
                            int64_t window) {
    RECORD_FUNCTION("iclit::packed_attention", std::vector<c10::IValue>());
    const int64_t H = q.size(1), KV = k.size(1), Dh = q.size(2), G = H / KV;
    const auto dt = q.scalar_type();
    const double lowest = dt == at::kFloat ? -std::numeric_limits<float>::max() : -3.3895313892515355e38;
    std::vector<at::Tensor> outs;
    variable_list saved;  // per sequence: q in [KV, G·L, D], k as [KV, D, L], v as [KV, L, D], P (dt), P (float32)
    outs.reserve(lengths.size());
    const auto qp = q.split_with_sizes(lengths, 0), kp = k.split_with_sizes(lengths, 0), vp = v.split_with_sizes(lengths, 0);
    for (size_t i = 0; i < lengths.size(); i++) {
      const int64_t L = lengths[i];
      const SmallGemmScope single(q.device().is_cpu() && G * L * L * Dh < kSmallGemm);
      const auto blocked = BlockedMask(L, window, q.device());
      auto qs = qp[i].permute({1, 0, 2}).reshape({KV, G * L, Dh});  // [KV, G·L, D]
      auto ks = kp[i].permute({1, 2, 0});                           // [KV, D, L]
      auto vs = vp[i].permute({1, 0, 2});                           // [KV, L, D]
      auto scores = Matmul(qs, ks).mul(scale).view({KV, G, L, L}).masked_fill(blocked, lowest);  // [KV, G, L, L]
      auto p32 = at::softmax(scores.to(at::kFloat), -1).view({KV, G * L, L});                    // [KV, G·L, L]
      auto probs = p32.to(dt);
      auto o = Matmul(probs, vs).view({H, L, Dh}).permute({1, 0, 2}).reshape({L, H * Dh});  // [L, H·D]
      outs.push_back(o);
      saved.insert(saved.end(), {qs, ks, vs, probs, p32});
    }
    ctx->save_for_backward(saved);
    ctx->saved_data["lengths"] = c10::IValue(lengths);
    ctx->saved_data["scale"] = scale;
    if (outs.size() > 1) return at::cat(outs, 0);
    return outs[0].is_view() ? outs[0].clone() : outs[0];
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto lengths = ctx->saved_data["lengths"].toIntVector();
    const double scale = ctx->saved_data["scale"].toDouble();
    const auto& g = grads[0];  // [N, H·D]
    const int64_t KV = saved[0].size(0), Dh = saved[0].size(2), G = saved[0].size(1) / lengths[0], H = KV * G, N = g.size(0);
    const bool needQ = ctx->needs_input_grad(0), needK = ctx->needs_input_grad(1), needV = ctx->needs_input_grad(2);
    auto opts = g.options();
    auto gq = needQ ? at::empty({N, H, Dh}, opts) : at::Tensor();
    auto gk = needK ? at::empty({N, KV, Dh}, opts) : at::Tensor();
    auto gv = needV ? at::empty({N, KV, Dh}, opts) : at::Tensor();
    int64_t off = 0;
    for (size_t i = 0; i < lengths.size(); i++) {
      const int64_t L = lengths[i];
      const SmallGemmScope single(g.device().is_cpu() && G * L * L * Dh < kSmallGemm);
      const auto &qs = saved[5 * i], &ks = saved[5 * i + 1], &vs = saved[5 * i + 2], &probs = saved[5 * i + 3], &p32 = saved[5 * i + 4];
      auto go = g.narrow(0, off, L).reshape({L, H, Dh}).permute({1, 0, 2}).reshape({KV, G * L, Dh});  // [KV, G·L, D]
      if (needV) gv.narrow(0, off, L).copy_(Matmul(probs.transpose(1, 2), go).permute({1, 0, 2}));  // [L, KV, D]
      if (needQ || needK) {
        auto gp = Matmul(go, vs.transpose(1, 2));                                                   // [KV, G·L, L]
        auto gs = at::_softmax_backward_data(gp.to(at::kFloat), p32, -1, at::kFloat).to(g.scalar_type()).mul(scale);  // [KV, G·L, L]
        if (needQ) gq.narrow(0, off, L).copy_(Matmul(gs, ks.transpose(1, 2)).view({H, L, Dh}).permute({1, 0, 2}));  // [L, H, D]
        if (needK) gk.narrow(0, off, L).copy_(Matmul(qs.transpose(1, 2), gs).permute({2, 0, 1}));                   // [L, KV, D]
      }
      off += L;
    }
    return {gq, gk, gv, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

static at::Tensor PackedAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const std::vector<int64_t>& lengths, double scale,
                                  int64_t window) {
  if (UseBlasAttention(q, k, v)) return BlasAttention(q, k, v, lengths, scale, window);
  return PackedAttentionFn::apply(q, k, v, lengths, scale, window);
}

// ---------- LoRA over row segments ----------

/**
 * The LoRA update of rows split into contiguous segments, segment g through adapter g: h [N, in], A [G, r, in],
 * B [G, out, r], segment sizes summing to N → [N, out] = h_g A_gᵀ B_gᵀ per segment. One bmm pair either way: equal
 * segments are a reshape; unequal ones are gathered into [G, S_max, in] with zero rows after each segment's end (the
 * gather's backward is one index_add, where selecting each adapter's slice would make G full-size zero gradients).
 */
static at::Tensor SegmentLora(const at::Tensor& h, const at::Tensor& A, const at::Tensor& B, const std::vector<int64_t>& sizes) {
  const int64_t G = A.size(0), in = h.size(-1), out = B.size(1), N = h.size(0);
  if (static_cast<int64_t>(sizes.size()) != G) throw std::runtime_error("segmentLora: one segment per adapter needed");
  if (G == 1) return at::linear(at::linear(h, A.select(0, 0)), B.select(0, 0));
  int64_t smax = 0, total = 0;
  bool equal = true;
  for (auto s : sizes) {
    smax = std::max(smax, s);
    total += s;
    equal = equal && s == sizes[0];
  }
  if (total != N) throw std::runtime_error("segmentLora: segment sizes do not add up to the rows");
  if (equal) {
    auto low = at::bmm(h.reshape({G, sizes[0], in}), A.transpose(1, 2));  // [G, S, r]
    return at::bmm(low, B.transpose(1, 2)).reshape({N, out});            // [N, out]
  }
  std::vector<int64_t> gather(G * smax, N), scatter(N);  // row N of the padded input is a zero row
  int64_t off = 0;
  for (int64_t g = 0; g < G; g++) {
    for (int64_t j = 0; j < sizes[g]; j++) {
      gather[g * smax + j] = off + j;
      scatter[off + j] = g * smax + j;
    }
    off += sizes[g];
  }
  auto idx = at::TensorOptions().dtype(at::kLong);
  auto gi = at::tensor(gather, idx).to(h.device());
  auto si = at::tensor(scatter, idx).to(h.device());
  auto padded = at::cat({h, at::zeros({1, in}, h.options())}, 0).index_select(0, gi).view({G, smax, in});  // [G, S_max, in]
  auto low = at::bmm(padded, A.transpose(1, 2));                                                            // [G, S_max, r]
  return at::bmm(low, B.transpose(1, 2)).view({G * smax, out}).index_select(0, si);                         // [N, out]
}

// ---------- dropout masks from per-sequence seeds ----------

/*
 * A mask entry is a counter-based draw: element j (row-major within the sequence's [L, width] block) of the
 * sequence seeded s is kept when Mix32(Mix32(j + a) ^ b) ≥ ⌊p·2³²⌉, with a = Mix32(s), b = Mix32(s ^ 0x5bd1e995).
 * A counter through an integer hash needs no generator state, so a mask costs a few integer ops per entry (the
 * bernoulli_ draws it replaces were 5% of a training step), any device computes the same bits (the CPU loop below,
 * the same formula as int64 tensor ops elsewhere), and a sequence's mask depends on its seed alone.
 */

/** lowbias32 (C. Wellons): a 32-bit integer hash with full avalanche. */
static inline __attribute__((always_inline)) uint32_t Mix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

/** Entries j = 0..n−1 of one sequence's mask: branch-free, so the compiler vectorises it (O3, and an AVX2 clone picked at load time where the CPU has it). */
__attribute__((optimize("O3"), target_clones("avx2", "default"))) static void FillMask(float* o, uint32_t n, uint32_t a, uint32_t b, uint32_t threshold, float keep) {
  for (int64_t j = 0; j < static_cast<int64_t>(n); j++) {
    const uint32_t h = Mix32(Mix32(static_cast<uint32_t>(j) + a) ^ b);
    o[j] = h >= threshold ? keep : 0.0f;
  }
}

static uint32_t DropThreshold(double p) { return static_cast<uint32_t>(std::min(std::llround(p * 4294967296.0), 4294967295LL)); }

/**
 * The masks of every sequence as int64 tensor ops on `device`, a fixed number of ops however many sequences: each row
 * carries its sequence's keys and its first counter (values below 2³² in int64, so every op is exact).
 */
static at::Tensor DropoutMaskOps(const std::vector<double>& seeds, const std::vector<int64_t>& lengths, int64_t width, double p, at::Device device) {
  const int64_t M = 0xffffffffLL;
  // x·c mod 2³² with both below 2³², in halves of c so that no product reaches 2⁶³
  auto mulMod32 = [M](const at::Tensor& x, int64_t c) {
    return x.mul(c & 0xffff).add(x.mul(c >> 16).bitwise_and(0xffff).mul(65536)).bitwise_and(M);
  };
  auto mix = [&](at::Tensor x) {
    x = x.bitwise_xor(x.bitwise_right_shift(16));
    x = mulMod32(x, 0x7feb352dLL);
    x = x.bitwise_xor(x.bitwise_right_shift(15));
    x = mulMod32(x, 0x846ca68bLL);
    return x.bitwise_xor(x.bitwise_right_shift(16));
  };
  std::vector<int64_t> start, b;  // per row: counter of its first entry + a, and b
  for (size_t i = 0; i < seeds.size(); i++) {
    const uint32_t seed = static_cast<uint32_t>(seeds[i]), ai = Mix32(seed), bi = Mix32(seed ^ 0x5bd1e995U);
    for (int64_t r = 0; r < lengths[i]; r++) {
      start.push_back(static_cast<uint32_t>(r * width) + ai);  // (row counter + a) mod 2³²
      b.push_back(bi);
    }
  }
  const auto R = static_cast<int64_t>(start.size());
  auto longs = at::TensorOptions().dtype(at::kLong);
  auto rowStart = at::tensor(start, longs).to(device).view({R, 1});
  auto rowB = at::tensor(b, longs).to(device).view({R, 1});
  auto col = at::arange(width, longs.device(device)).view({1, width});
  auto u = mix(mix(rowStart.add(col).bitwise_and(M)).bitwise_xor(rowB));  // [R, width]
  return u.ge(static_cast<int64_t>(DropThreshold(p))).to(at::kFloat);
}

/**
 * Inverted-dropout masks [Σ lengths, width] (float32, entries 0 or 1/(1−p)) where the `lengths[i]` rows of sequence
 * i come from seeds[i] alone (a 32-bit seed), so a sequence's mask never depends on what else is in the batch or on
 * the device. `tensorOps` computes the CPU mask through the device formula (the check that both agree).
 */
at::Tensor DropoutMask(const std::vector<double>& seeds, const std::vector<int64_t>& lengths, int64_t width, double p, at::Device device, bool tensorOps) {
  if (seeds.size() != lengths.size()) throw std::runtime_error("dropoutMask: one seed per sequence needed");
  for (auto L : lengths) {
    if (L * width >= 4294967296LL) throw std::runtime_error("dropoutMask: one sequence's mask exceeds 2^32 entries");
  }
  for (double s : seeds) {
    if (!(s >= 0 && s < 4294967296.0) || s != std::floor(s)) throw std::runtime_error("dropoutMask: seeds are 32-bit unsigned integers");
  }
  const float keep = static_cast<float>(1 / (1 - p));
  int64_t total = 0;
  for (auto L : lengths) total += L;
  if (!device.is_cpu() || tensorOps) {
    return DropoutMaskOps(seeds, lengths, width, p, device).mul_(keep);
  }
  auto mask = at::empty({total, width}, at::TensorOptions().dtype(at::kFloat));
  float* out = mask.data_ptr<float>();
  const uint32_t threshold = DropThreshold(p);
  std::vector<int64_t> offsets(seeds.size() + 1, 0);
  for (size_t i = 0; i < seeds.size(); i++) offsets[i + 1] = offsets[i] + lengths[i] * width;
  at::parallel_for(0, static_cast<int64_t>(seeds.size()), 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
      const uint32_t seed = static_cast<uint32_t>(seeds[i]), a = Mix32(seed), b = Mix32(seed ^ 0x5bd1e995U);
      FillMask(out + offsets[i], static_cast<uint32_t>(offsets[i + 1] - offsets[i]), a, b, threshold, keep);
    }
  });
  return mask;
}

void RegisterFused(Registry& r) {
  r.add("rmsNorm", [](const Napi::CallbackInfo& i) { return W(i, RmsNorm(T(i[0]), T(i[1]), D(i[2]))); });
  r.add("rope", [](const Napi::CallbackInfo& i) { return W(i, Rope(T(i[0]), T(i[1]), T(i[2]))); });
  r.add("swiglu", [](const Napi::CallbackInfo& i) { return W(i, SwiGlu(T(i[0]), T(i[1]))); });
  r.add("packedAttention", [](const Napi::CallbackInfo& i) {
    return W(i, PackedAttention(T(i[0]), T(i[1]), T(i[2]), ToInts(i[3]), D(i[4]), i[5].IsNumber() ? I(i[5]) : 0));
  });
  r.add("segmentLora", [](const Napi::CallbackInfo& i) { return W(i, SegmentLora(T(i[0]), T(i[1]), T(i[2]), ToInts(i[3]))); });
  r.add("dropoutMask", [](const Napi::CallbackInfo& i) {
    return W(i, DropoutMask(ToDoubles(i[0]), ToInts(i[1]), I(i[2]), D(i[3]), ParseDevice(i[4]), i[5].ToBoolean()));
  });
  r.add("setEmulateBf16", [](const Napi::CallbackInfo& i) {
    SetEmulateBf16(i[0].ToBoolean());
    return i.Env().Undefined();
  });
  r.add("setDirectKernels", [](const Napi::CallbackInfo& i) {
    SetDirectKernels(i[0].ToBoolean());
    return i.Env().Undefined();
  });
  r.add("directBlas", [](const Napi::CallbackInfo& i) { return Napi::Boolean::New(i.Env(), DirectBlasAvailable()); });
  r.add("emulateBf16", [](const Napi::CallbackInfo& i) { return Napi::Boolean::New(i.Env(), EmulateBf16()); });
}

}  // namespace iclit
