// Ops of LoRA training that run as one native call each: the LoRA update added to a base output (one autograd node), AdamW over a list.
#include "binding.h"

#include <torch/csrc/autograd/custom_function.h>

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <vector>

namespace iclit {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// ---------- the LoRA update of a linear layer, one autograd node ----------

/** The per-segment GEMMs call BLAS directly: OpenBLAS loaded and the CPU float32 loops apply (binding.h Sgemm, UseCpuLoops). */
static bool Direct(const at::Tensor& h, const at::Tensor& A, const at::Tensor& B) { return DirectBlas() && UseCpuLoops({h, A, B}); }

/**
 * Runs fn(segment, row offset) over the non-empty segments: with `spread` (the direct path) adapters across the
 * threads (SpreadSmallGemms), each adapter's segments in order on one thread, so each adapter's gradients add up in
 * the same order as in turn; otherwise in turn.
 */
template <typename Fn>
static void ForEachSegment(const std::vector<int64_t>& adapters, const std::vector<int64_t>& sizes, bool spread, const Fn& fn) {
  std::vector<int64_t> offs(sizes.size());
  std::vector<std::vector<size_t>> byAdapter;  // adapters in order of first appearance, each with its segments
  std::unordered_map<int64_t, size_t> slot;
  int64_t off = 0;
  for (size_t i = 0; i < sizes.size(); i++) {
    offs[i] = off;
    off += sizes[i];
    if (sizes[i] == 0) continue;
    const auto entry = slot.emplace(adapters[i], byAdapter.size());
    if (entry.second) byAdapter.emplace_back();
    byAdapter[entry.first->second].push_back(i);
  }
  const auto adapter = [&](int64_t g, int) {
    for (size_t i : byAdapter[g]) fn(i, offs[i]);
  };
  if (spread && SpreadSmallGemms(static_cast<int64_t>(byAdapter.size()), adapter)) return;
  for (size_t i = 0; i < sizes.size(); i++)
    if (sizes[i] > 0) fn(i, offs[i]);
}

/**
 * y + scaling · (x ⊙ mask) A_aᵀ B_aᵀ over row segments: segment i (sizes[i] rows, in order) goes through adapter
 * adapters[i]. y [..., out] is the base layer's output, x [..., in] its input, A [G, r, in], B [G, out, r] (the
 * adapters' dtype, float32 as PEFT keeps them); the LoRA path runs in A's dtype and the sum is cast back to y's. The
 * dropout mask (when p > 0) comes from DropoutMask with one seed per sequence, as the unfused path draws it. Written
 * out as one autograd function, so a training step records one node per adapted layer instead of the dozen of
 * reshape / cast / mask / gather / bmm / scale / add nodes (and their backward) that the composed path records.
 */
struct LoraAddFn : public torch::autograd::Function<LoraAddFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& y, const at::Tensor& x, const at::Tensor& A, const at::Tensor& B, std::vector<int64_t> adapters,
                            std::vector<int64_t> sizes, double scaling, std::vector<double> maskSeeds, std::vector<int64_t> maskLengths, double p) {
    RECORD_FUNCTION("iclit::lora_add", std::vector<c10::IValue>());  // a profiler row for the forward (backward has its node's)
    const int64_t in = x.size(-1), out = y.size(-1), r = A.size(1);
    auto h = ToDtype(x.reshape({-1, in}), A.scalar_type());  // [R, in]
    const int64_t R = h.size(0);
    int64_t total = 0;
    for (auto s : sizes) total += s;
    if (total != R || y.numel() != R * out) throw std::runtime_error("loraAdd: segment sizes do not add up to the rows");
    at::Tensor mask;
    if (p > 0) {
      mask = DropoutMask(maskSeeds, maskLengths, in, p, x.device());  // [R, in]
      h = h.mul(mask);
    }
    const SmallGemmScope single(h.device().is_cpu() && R * in * r < kSmallGemm);
    h = h.contiguous();
    auto low = at::empty({R, r}, h.options());      // [R, r]
    auto delta = at::empty({R, out}, h.options());  // [R, out]
    const bool direct = Direct(h, A, B);
    ForEachSegment(adapters, sizes, direct, [&](size_t i, int64_t off) {
      const int64_t s = sizes[i], a = adapters[i];
      if (direct) {
        Sgemm(false, true, s, r, in, 1.0f, h.data_ptr<float>() + off * in, in, A.data_ptr<float>() + a * r * in, in, 0.0f, low.data_ptr<float>() + off * r, r);
        Sgemm(false, true, s, out, r, 1.0f, low.data_ptr<float>() + off * r, r, B.data_ptr<float>() + a * out * r, r, 0.0f, delta.data_ptr<float>() + off * out, out);
        return;
      }
      auto l = low.narrow(0, off, s);
      at::mm_out(l, h.narrow(0, off, s), A.select(0, a).t());
      auto d = delta.narrow(0, off, s);
      at::mm_out(d, l, B.select(0, a).t());
    });
    ctx->save_for_backward({h, mask, low, A, B});
    ctx->saved_data["adapters"] = c10::IValue(adapters);
    ctx->saved_data["sizes"] = c10::IValue(sizes);
    ctx->saved_data["scaling"] = scaling;
    ctx->saved_data["xShape"] = c10::IValue(x.sizes().vec());
    ctx->saved_data["xType"] = static_cast<int64_t>(x.scalar_type());
    delta.mul_(scaling);
    return ToDtype(ToDtype(y, delta.scalar_type()).add(delta.view(y.sizes())), y.scalar_type());  // [..., out]
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto &h = saved[0], &mask = saved[1], &low = saved[2], &A = saved[3], &B = saved[4];
    const auto adapters = ctx->saved_data["adapters"].toIntVector();
    const auto sizes = ctx->saved_data["sizes"].toIntVector();
    const double scaling = ctx->saved_data["scaling"].toDouble();
    const auto xShape = ctx->saved_data["xShape"].toIntVector();
    const auto xType = static_cast<at::ScalarType>(ctx->saved_data["xType"].toInt());
    const auto& g = grads[0];  // [..., out], y's dtype
    const int64_t R = h.size(0), in = h.size(1), out = B.size(1), r = A.size(1);
    const SmallGemmScope single(h.device().is_cpu() && R * std::max(in, out) * r < kSmallGemm);
    auto gs = ToDtype(g.reshape({R, out}), A.scalar_type()).mul(scaling);  // [R, out]: the gradient of the scaled update
    const bool needX = ctx->needs_input_grad(1), needA = ctx->needs_input_grad(2), needB = ctx->needs_input_grad(3);
    auto gh = needX ? at::empty({R, in}, h.options()) : at::Tensor();
    auto gA = needA ? at::zeros_like(A) : at::Tensor();
    auto gB = needB ? at::zeros_like(B) : at::Tensor();
    auto gl = at::empty({R, r}, h.options());  // [R, r]
    const bool direct = Direct(h, A, B);
    ForEachSegment(adapters, sizes, direct, [&](size_t i, int64_t off) {
      const int64_t s = sizes[i], a = adapters[i];
      if (direct) {  // the same four products on raw rows: gl = g·B, gB += gᵀ·low, gA += glᵀ·h, gh = gl·A
        const float *gp = gs.data_ptr<float>() + off * out, *Ap = A.data_ptr<float>() + a * r * in, *Bp = B.data_ptr<float>() + a * out * r;
        float* glp = gl.data_ptr<float>() + off * r;
        Sgemm(false, false, s, r, out, 1.0f, gp, out, Bp, r, 0.0f, glp, r);
        if (needB) Sgemm(true, false, out, r, s, 1.0f, gp, out, low.data_ptr<float>() + off * r, r, 1.0f, gB.data_ptr<float>() + a * out * r, r);
        if (needA) Sgemm(true, false, r, in, s, 1.0f, glp, r, h.data_ptr<float>() + off * in, in, 1.0f, gA.data_ptr<float>() + a * r * in, in);
        if (needX) Sgemm(false, false, s, in, r, 1.0f, glp, r, Ap, in, 0.0f, gh.data_ptr<float>() + off * in, in);
        return;
      }
      auto gseg = gs.narrow(0, off, s);  // [s, out]
      auto gls = gl.narrow(0, off, s);   // [s, r]
      at::mm_out(gls, gseg, B.select(0, a));
      if (needB) gB.select(0, a).addmm_(gseg.t(), low.narrow(0, off, s));  // [out, r]
      if (needA) gA.select(0, a).addmm_(gls.t(), h.narrow(0, off, s));     // [r, in]
      if (needX) {
        auto ghs = gh.narrow(0, off, s);
        at::mm_out(ghs, gls, A.select(0, a));  // [s, in]
      }
    });
    at::Tensor gx;
    if (needX) {
      if (mask.defined()) gh.mul_(mask);
      gx = ToDtype(gh, xType).view(xShape);
    }
    // y, x, A, B, then the non-tensor arguments
    return {g, gx, gA, gB, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

// ---------- AdamW over a list of parameters ----------

/**
 * One AdamW step over parameter i of each list (torch.optim.AdamW's update, amsgrad off), as new tensors: the same
 * float32 ops in the same order as the pure TypeScript update it replaces, so the numbers are the same; one native
 * call instead of a dozen per parameter. The scalars come computed from the caller (bias corrections included), so
 * nothing is rounded differently here. Returns [params′…, m′…, v′…].
 */
static std::vector<at::Tensor> AdamW(const std::vector<at::Tensor>& params, const std::vector<at::Tensor>& grads, const std::vector<at::Tensor>& m0,
                                     const std::vector<at::Tensor>& v0, const std::vector<double>& k) {
  const size_t n = params.size();
  if (grads.size() != n || m0.size() != n || v0.size() != n) throw std::runtime_error("adamw: params, grads and moments differ in count");
  if (k.size() != 8) throw std::runtime_error("adamw: 8 scalars needed");
  // 1 − lr·wd, β1, 1 − β1, β2, 1 − β2, √(1 − β2^t), eps, lr / (1 − β1^t)
  const double decay = k[0], b1 = k[1], oneMinusB1 = k[2], b2 = k[3], oneMinusB2 = k[4], bc2Sqrt = k[5], eps = k[6], stepSize = k[7];
  at::NoGradGuard ng;
  std::vector<at::Tensor> out(3 * n);
  bool loop = true;
  for (size_t i = 0; i < n && loop; i++) {
    loop = UseCpuLoops({params[i], grads[i], m0[i], v0[i]}) && grads[i].numel() == params[i].numel() && m0[i].numel() == params[i].numel() &&
           v0[i].numel() == params[i].numel();
  }
  if (loop) {
    // One pass per parameter instead of a dozen ops: the same float32 operations in the same order (each scalar
    // rounded to float as libtorch does; binding.gyp builds with -ffp-contract=off, so no fused multiply-add), so the same bits.
    const float fDecay = decay, fB1 = b1, f1B1 = oneMinusB1, fB2 = b2, f1B2 = oneMinusB2, fBc2 = bc2Sqrt, fEps = eps, fStep = stepSize;
    for (size_t i = 0; i < n; i++) {
      auto p1 = at::empty_like(params[i]), m1 = at::empty_like(m0[i]), v1 = at::empty_like(v0[i]);
      const float *p = params[i].data_ptr<float>(), *g = grads[i].data_ptr<float>(), *m = m0[i].data_ptr<float>(), *v = v0[i].data_ptr<float>();
      float *po = p1.data_ptr<float>(), *mo = m1.data_ptr<float>(), *vo = v1.data_ptr<float>();
      at::parallel_for(0, params[i].numel(), 16384, [&](int64_t begin, int64_t end) {
        for (int64_t j = begin; j < end; j++) {
          const float gj = g[j];
          const float mj = m[j] * fB1 + gj * f1B1;
          const float vj = v[j] * fB2 + (gj * gj) * f1B2;
          const float denom = std::sqrt(vj) / fBc2 + fEps;
          po[j] = p[j] * fDecay - (mj / denom) * fStep;
          mo[j] = mj;
          vo[j] = vj;
        }
      });
      out[i] = p1;
      out[n + i] = m1;
      out[2 * n + i] = v1;
    }
    return out;
  }
  for (size_t i = 0; i < n; i++) {
    auto p32 = params[i].to(at::kFloat);
    auto g32 = grads[i].to(at::kFloat);
    auto decayed = p32.mul(decay);
    auto m = m0[i].mul(b1).add(g32.mul(oneMinusB1));
    auto v = v0[i].mul(b2).add(g32.mul(g32).mul(oneMinusB2));
    auto denom = v.sqrt().div(bc2Sqrt).add(eps);
    out[i] = decayed.sub(m.div(denom).mul(stepSize)).to(params[i].scalar_type());
    out[n + i] = m;
    out[2 * n + i] = v;
  }
  return out;
}

static Napi::Value WList(const Napi::CallbackInfo& info, const std::vector<at::Tensor>& ts) {
  auto a = Napi::Array::New(info.Env(), ts.size());
  for (size_t i = 0; i < ts.size(); i++) a.Set(i, W(info, ts[i]));
  return a;
}

void RegisterTrainOps(Registry& r) {
  r.add("loraAdd", [](const Napi::CallbackInfo& i) {
    // y, x, A, B, adapters, sizes, scaling, mask seeds, mask lengths, p
    return W(i, LoraAddFn::apply(T(i[0]), T(i[1]), T(i[2]), T(i[3]), ToInts(i[4]), ToInts(i[5]), D(i[6]), ToDoubles(i[7]), ToInts(i[8]), D(i[9])));
  });
  r.add("adamw", [](const Napi::CallbackInfo& i) { return WList(i, AdamW(TList(i[0]), TList(i[1]), TList(i[2]), TList(i[3]), ToDoubles(i[4]))); });
  // The gradients of a list of leaves (null where none), in one call.
  r.add("grads", [](const Napi::CallbackInfo& i) {
    auto ts = TList(i[0]);
    auto a = Napi::Array::New(i.Env(), ts.size());
    for (size_t k = 0; k < ts.size(); k++) {
      auto g = ts[k].grad();
      a.Set(k, g.defined() ? W(i, g) : i.Env().Null());
    }
    return a;
  });
  // Leaves take new values (outside autograd) and drop their gradients: the step after an optimiser update.
  r.add("assignLeaves", [](const Napi::CallbackInfo& i) {
    auto dst = TList(i[0]);
    auto src = TList(i[1]);
    if (dst.size() != src.size()) throw std::runtime_error("assignLeaves: lists differ in length");
    at::NoGradGuard ng;
    for (size_t k = 0; k < dst.size(); k++) {
      auto t = dst[k];
      t.copy_(src[k]);
      if (t.grad().defined()) t.mutable_grad() = at::Tensor();
    }
    return i.Env().Undefined();
  });
}

}  // namespace iclit
