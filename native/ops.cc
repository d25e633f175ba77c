// Plain libtorch ops: creation (on a device), copies, elementwise, linear algebra, reductions, shapes, autograd.
#include "binding.h"

namespace iclit {

#define BINARY(NAME, OP)                                                               \
  r.add(NAME, [](const Napi::CallbackInfo& i) {                                        \
    const auto& a = T(i[0]);                                                           \
    if (IsTensor(i[1])) return W(i, OP(a, T(i[1])));                                   \
    return W(i, OP(a, S(i[1])));                                                       \
  });

#define UNARY(NAME, EXPR) r.add(NAME, [](const Napi::CallbackInfo& i) { const auto& a = T(i[0]); return W(i, EXPR); });

// Argument conventions: tensors first, then plain values; scalars may stand where an "other" tensor goes; creation
// ops take the device last (undefined = CPU).
static at::TensorOptions Opts(const Napi::Value& dtype, const Napi::Value& device) {
  return at::TensorOptions().dtype(ParseDtype(dtype.As<Napi::String>())).device(ParseDevice(device));
}

void RegisterOps(Registry& r) {
  // creation
  r.add("zeros", [](const Napi::CallbackInfo& i) { return W(i, at::zeros(ToInts(i[0]), Opts(i[1], i[2]))); });
  r.add("ones", [](const Napi::CallbackInfo& i) { return W(i, at::ones(ToInts(i[0]), Opts(i[1], i[2]))); });
  r.add("full", [](const Napi::CallbackInfo& i) { return W(i, at::full(ToInts(i[0]), S(i[1]), Opts(i[2], i[3]))); });
  r.add("arange", [](const Napi::CallbackInfo& i) { return W(i, at::arange(S(i[0]), S(i[1]), S(i[2]), Opts(i[3], i[4]))); });
  r.add("randn", [](const Napi::CallbackInfo& i) { return W(i, at::randn(ToInts(i[0]), Opts(i[1], i[2]))); });
  r.add("rand", [](const Napi::CallbackInfo& i) { return W(i, at::rand(ToInts(i[0]), Opts(i[1], i[2]))); });
  r.add("uniform", [](const Napi::CallbackInfo& i) {
    auto t = at::empty(ToInts(i[0]), Opts(i[3], i[4]));
    t.uniform_(D(i[1]), D(i[2]));
    return W(i, t);
  });
  r.add("bernoulli", [](const Napi::CallbackInfo& i) { return W(i, at::bernoulli(T(i[0]))); });

  // conversions and copies: `to` shares storage when nothing changes (as PyTorch's .to); `cloneAs` always copies
  r.add("to", [](const Napi::CallbackInfo& i) { return W(i, T(i[0]).to(ParseDtype(i[1].As<Napi::String>()))); });
  r.add("cloneAs", [](const Napi::CallbackInfo& i) {
    return W(i, T(i[0]).to(ParseDtype(i[1].As<Napi::String>()), /*non_blocking=*/false, /*copy=*/true));
  });
  r.add("toDevice", [](const Napi::CallbackInfo& i) { return W(i, T(i[0]).to(ParseDevice(i[1]))); });
  // Device first, then dtype on the device: a bfloat16 view of a mapped file reaches a GPU without a host copy.
  r.add("toDeviceAs", [](const Napi::CallbackInfo& i) {
    auto moved = T(i[0]).to(ParseDevice(i[1]));
    return W(i, moved.to(ParseDtype(i[2].As<Napi::String>())));
  });
  r.add("contiguous", [](const Napi::CallbackInfo& i) { return W(i, T(i[0]).contiguous()); });
  r.add("clone", [](const Napi::CallbackInfo& i) { return W(i, T(i[0]).clone()); });
  r.add("detach", [](const Napi::CallbackInfo& i) { return W(i, T(i[0]).detach()); });
  r.add("item", [](const Napi::CallbackInfo& i) { return Napi::Number::New(i.Env(), T(i[0]).item().toDouble()); });
  r.add("numel", [](const Napi::CallbackInfo& i) { return Napi::Number::New(i.Env(), static_cast<double>(T(i[0]).numel())); });

  // elementwise
  BINARY("add", at::add)
  BINARY("sub", at::sub)
  BINARY("mul", at::mul)
  BINARY("div", at::div)
  BINARY("pow", at::pow)
  BINARY("eq", at::eq)
  BINARY("ne", at::ne)
  BINARY("lt", at::lt)
  BINARY("le", at::le)
  BINARY("gt", at::gt)
  BINARY("ge", at::ge)
  r.add("maximum", [](const Napi::CallbackInfo& i) { return W(i, at::maximum(T(i[0]), T(i[1]))); });
  r.add("minimum", [](const Napi::CallbackInfo& i) { return W(i, at::minimum(T(i[0]), T(i[1]))); });
  UNARY("neg", at::neg(a))
  UNARY("exp", at::exp(a))
  UNARY("log", at::log(a))
  UNARY("sqrt", at::sqrt(a))
  UNARY("rsqrt", at::rsqrt(a))
  UNARY("abs", at::abs(a))
  UNARY("tanh", at::tanh(a))
  UNARY("sigmoid", at::sigmoid(a))
  UNARY("silu", at::silu(a))
  UNARY("relu", at::relu(a))
  UNARY("sin", at::sin(a))
  UNARY("cos", at::cos(a))
  UNARY("square", at::square(a))
  UNARY("logicalNot", at::logical_not(a))
  UNARY("isFinite", at::isfinite(a))
  r.add("gelu", [](const Napi::CallbackInfo& i) {
    std::string approx = i[1].IsString() ? std::string(i[1].As<Napi::String>()) : "none";
    return W(i, at::gelu(T(i[0]), approx));
  });
  r.add("logicalAnd", [](const Napi::CallbackInfo& i) { return W(i, at::logical_and(T(i[0]), T(i[1]))); });
  r.add("logicalOr", [](const Napi::CallbackInfo& i) { return W(i, at::logical_or(T(i[0]), T(i[1]))); });
  r.add("clamp", [](const Napi::CallbackInfo& i) {
    c10::optional<at::Scalar> lo, hi;
    if (i[1].IsNumber()) lo = S(i[1]);
    if (i[2].IsNumber()) hi = S(i[2]);
    return W(i, at::clamp(T(i[0]), lo, hi));
  });
  r.add("where", [](const Napi::CallbackInfo& i) {
    const auto& c = T(i[0]);
    if (IsTensor(i[1]) && IsTensor(i[2])) return W(i, at::where(c, T(i[1]), T(i[2])));
    if (IsTensor(i[1])) return W(i, at::where(c, T(i[1]), S(i[2])));
    if (IsTensor(i[2])) return W(i, at::where(c, S(i[1]), T(i[2])));
    return W(i, at::where(c, S(i[1]), S(i[2])));
  });
  r.add("maskedFill", [](const Napi::CallbackInfo& i) { return W(i, T(i[0]).masked_fill(T(i[1]), S(i[2]))); });
  r.add("triu", [](const Napi::CallbackInfo& i) { return W(i, at::triu(T(i[0]), I(i[1]))); });
  r.add("tril", [](const Napi::CallbackInfo& i) { return W(i, at::tril(T(i[0]), I(i[1]))); });

  // linear algebra (bfloat16 GEMMs go through the widening path on CPUs without native bfloat16)
  r.add("matmul", [](const Napi::CallbackInfo& i) { return W(i, Matmul(T(i[0]), T(i[1]))); });
  r.add("bmm", [](const Napi::CallbackInfo& i) { return W(i, Matmul(T(i[0]), T(i[1]))); });
  r.add("linear", [](const Napi::CallbackInfo& i) { return W(i, Linear(T(i[0]), T(i[1]), OptT(i[2]))); });

  // reductions (dims: undefined = all)
  r.add("sum", [](const Napi::CallbackInfo& i) {
    if (i[1].IsUndefined() || i[1].IsNull()) return W(i, T(i[0]).sum());
    return W(i, T(i[0]).sum(ToInts(i[1]), i[2].ToBoolean()));
  });
  r.add("mean", [](const Napi::CallbackInfo& i) {
    if (i[1].IsUndefined() || i[1].IsNull()) return W(i, T(i[0]).mean());
    return W(i, T(i[0]).mean(ToInts(i[1]), i[2].ToBoolean()));
  });
  r.add("amax", [](const Napi::CallbackInfo& i) { return W(i, at::amax(T(i[0]), ToInts(i[1]), i[2].ToBoolean())); });
  r.add("amin", [](const Napi::CallbackInfo& i) { return W(i, at::amin(T(i[0]), ToInts(i[1]), i[2].ToBoolean())); });
  r.add("argmax", [](const Napi::CallbackInfo& i) { return W(i, at::argmax(T(i[0]), I(i[1]), i[2].ToBoolean())); });
  r.add("softmax", [](const Napi::CallbackInfo& i) { return W(i, at::softmax(T(i[0]), I(i[1]))); });
  r.add("logSoftmax", [](const Napi::CallbackInfo& i) { return W(i, at::log_softmax(T(i[0]), I(i[1]))); });
  r.add("cumsum", [](const Napi::CallbackInfo& i) { return W(i, at::cumsum(T(i[0]), I(i[1]))); });

  // shapes and indexing
  r.add("reshape", [](const Napi::CallbackInfo& i) { return W(i, T(i[0]).reshape(ToInts(i[1]))); });
  r.add("permute", [](const Napi::CallbackInfo& i) { return W(i, T(i[0]).permute(ToInts(i[1]))); });
  r.add("transpose", [](const Napi::CallbackInfo& i) { return W(i, T(i[0]).transpose(I(i[1]), I(i[2]))); });
  r.add("unsqueeze", [](const Napi::CallbackInfo& i) { return W(i, T(i[0]).unsqueeze(I(i[1]))); });
  r.add("squeeze", [](const Napi::CallbackInfo& i) { return W(i, T(i[0]).squeeze(I(i[1]))); });
  r.add("expand", [](const Napi::CallbackInfo& i) { return W(i, T(i[0]).expand(ToInts(i[1]))); });
  r.add("repeatInterleave", [](const Napi::CallbackInfo& i) { return W(i, T(i[0]).repeat_interleave(I(i[1]), I(i[2]))); });
  r.add("slice", [](const Napi::CallbackInfo& i) {
    return W(i, T(i[0]).slice(I(i[1]), I(i[2]), I(i[3]), i[4].IsNumber() ? I(i[4]) : 1));
  });
  r.add("select", [](const Napi::CallbackInfo& i) { return W(i, T(i[0]).select(I(i[1]), I(i[2]))); });
  r.add("cat", [](const Napi::CallbackInfo& i) { return W(i, at::cat(TList(i[0]), I(i[1]))); });
  r.add("stack", [](const Napi::CallbackInfo& i) { return W(i, at::stack(TList(i[0]), I(i[1]))); });
  r.add("indexSelect", [](const Napi::CallbackInfo& i) { return W(i, at::index_select(T(i[0]), I(i[1]), T(i[2]))); });
  r.add("gather", [](const Napi::CallbackInfo& i) { return W(i, at::gather(T(i[0]), I(i[1]), T(i[2]))); });
  r.add("embedding", [](const Napi::CallbackInfo& i) { return W(i, at::embedding(T(i[0]), T(i[1]))); });

  // neural-network functions
  r.add("layerNorm", [](const Napi::CallbackInfo& i) { return W(i, at::layer_norm(T(i[0]), ToInts(i[1]), OptT(i[2]), OptT(i[3]), D(i[4]))); });
  r.add("dropout", [](const Napi::CallbackInfo& i) { return W(i, at::dropout(T(i[0]), D(i[1]), i[2].ToBoolean())); });
  r.add("crossEntropy", [](const Napi::CallbackInfo& i) {
    // reduction: 0 none, 1 mean, 2 sum (at::Reduction)
    return W(i, at::cross_entropy_loss(T(i[0]), T(i[1]), {}, I(i[2]), I(i[3])));
  });

  // autograd
  r.add("setRequiresGrad", [](const Napi::CallbackInfo& i) {
    auto t = T(i[0]);
    t.requires_grad_(i[1].ToBoolean());
    return i.Env().Undefined();
  });
  r.add("backward", [](const Napi::CallbackInfo& i) {
    auto t = T(i[0]);
    if (IsTensor(i[1])) t.backward(T(i[1]));
    else t.backward();
    return i.Env().Undefined();
  });
  r.add("zeroGrad", [](const Napi::CallbackInfo& i) {
    auto t = T(i[0]);
    if (t.grad().defined()) t.mutable_grad() = at::Tensor();
    return i.Env().Undefined();
  });
  r.add("setGradEnabled", [](const Napi::CallbackInfo& i) {
    bool prev = at::GradMode::is_enabled();
    at::GradMode::set_enabled(i[0].ToBoolean());
    return Napi::Boolean::New(i.Env(), prev);
  });
  r.add("isGradEnabled", [](const Napi::CallbackInfo& i) { return Napi::Boolean::New(i.Env(), at::GradMode::is_enabled()); });
  // In-place updates of leaf parameters (optimisers), done outside autograd.
  r.add("copyInto", [](const Napi::CallbackInfo& i) {
    at::NoGradGuard ng;
    auto dst = T(i[0]);
    dst.copy_(T(i[1]));
    return i.Env().Undefined();
  });
}

}  // namespace iclit
