// The only C++ in iclit: a thin Node-API binding exposing libtorch tensors, ops, autograd and memory-mapped storage.
#include <napi.h>
#include <c10/core/CPUAllocator.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <string>
#include <vector>

namespace {

// ---------- dtype and shape conversion ----------

at::ScalarType ParseDtype(const std::string& s) {
  if (s == "float32") return at::kFloat;
  if (s == "float16") return at::kHalf;
  if (s == "bfloat16") return at::kBFloat16;
  if (s == "float64") return at::kDouble;
  if (s == "int64") return at::kLong;
  if (s == "int32") return at::kInt;
  if (s == "uint8") return at::kByte;
  if (s == "int8") return at::kChar;
  if (s == "bool") return at::kBool;
  throw std::runtime_error("unsupported dtype: " + s);
}

std::string DtypeName(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "float32";
    case at::kHalf: return "float16";
    case at::kBFloat16: return "bfloat16";
    case at::kDouble: return "float64";
    case at::kLong: return "int64";
    case at::kInt: return "int32";
    case at::kByte: return "uint8";
    case at::kChar: return "int8";
    case at::kBool: return "bool";
    default: return std::string("other:") + c10::toString(t);
  }
}

std::vector<int64_t> ToInts(const Napi::Value& v) {
  std::vector<int64_t> out;
  if (v.IsNumber()) {
    out.push_back(v.As<Napi::Number>().Int64Value());
    return out;
  }
  if (!v.IsArray()) throw std::runtime_error("expected an array of integers");
  auto a = v.As<Napi::Array>();
  out.reserve(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) out.push_back(a.Get(i).As<Napi::Number>().Int64Value());
  return out;
}

Napi::Array FromInts(Napi::Env env, at::IntArrayRef xs) {
  auto a = Napi::Array::New(env, xs.size());
  for (size_t i = 0; i < xs.size(); i++) a.Set(i, Napi::Number::New(env, static_cast<double>(xs[i])));
  return a;
}

// ---------- memory-mapped files ----------

// A read-only mapping shared by every tensor viewing it; unmapped when the last one is freed.
struct Mapping {
  void* addr = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (addr && size) munmap(addr, size);
  }
};

class MappedFile : public Napi::ObjectWrap<MappedFile> {
 public:
  static Napi::FunctionReference ctor;
  std::shared_ptr<Mapping> mapping;
  static void Init(Napi::Env env, Napi::Object exports) {
    auto f = DefineClass(env, "MappedFile", {InstanceAccessor<&MappedFile::Size>("size"), InstanceMethod<&MappedFile::Close>("close")});
    ctor = Napi::Persistent(f);
    exports.Set("MappedFile", f);
  }
  explicit MappedFile(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MappedFile>(info) {
    std::string path = info[0].As<Napi::String>();
    int fd = open(path.c_str(), O_RDONLY);
    if (fd < 0) throw Napi::Error::New(info.Env(), "cannot open " + path + ": " + strerror(errno));
    struct stat st;
    fstat(fd, &st);
    mapping = std::make_shared<Mapping>();
    mapping->size = static_cast<size_t>(st.st_size);
    if (mapping->size > 0) {
      void* p = mmap(nullptr, mapping->size, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        close(fd);
        mapping->size = 0;
        throw Napi::Error::New(info.Env(), "cannot mmap " + path + ": " + strerror(errno));
      }
      mapping->addr = p;
    }
    close(fd);
  }
  Napi::Value Size(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), mapping ? static_cast<double>(mapping->size) : 0); }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    mapping.reset();
    return info.Env().Undefined();
  }
};
Napi::FunctionReference MappedFile::ctor;


// ---------- tensor memory ----------

// Tensor buffers are kept for reuse by size instead of going back to malloc. Two reasons: a forward pass allocates
// the same sizes again and again, and a fresh buffer costs a page fault per 4 KiB (about a quarter of a float32
// matmul's time here); and buffers freed into glibc's heap get pinned by the small native objects that live until
// the JS garbage collector runs, so RSS would grow without bound in a training loop. Small buffers (< 4 KiB) go to
// malloc as usual. The cache is bounded (ICLIT_CPU_CACHE_MB, default 2048); beyond it buffers are really freed.
// libtorch 2.3 made Allocator::allocate non-const and added copy_data; support both sides.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 3)
#define ICLIT_ALLOCATE_CONST
#define ICLIT_ALLOCATOR_COPY_DATA 1
#else
#define ICLIT_ALLOCATE_CONST const
#endif

class CachingCpuAllocator final : public c10::Allocator {
 public:
  static constexpr size_t kSmall = 4096;

  explicit CachingCpuAllocator(size_t limit) : limit_(limit) {}

  static size_t Bucket(size_t n) {
    const size_t step = n >= (1 << 20) ? (64 << 10) : 4096;  // coarser steps for big buffers
    return (n + step - 1) / step * step;
  }

  c10::DataPtr allocate(size_t n) ICLIT_ALLOCATE_CONST override {
    const size_t size = n < kSmall ? n : Bucket(n);
    void* p = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (size >= kSmall) {
        auto it = free_.find(size);
        if (it != free_.end() && !it->second.empty()) {
          p = it->second.back();
          it->second.pop_back();
          cached_ -= size;
        }
      }
      if (!p) {
        // data == context, as libtorch's raw_allocate requires; the size is looked up on free.
        if (posix_memalign(&p, 64, size > 0 ? size : 1) != 0 || !p) throw std::bad_alloc();
      }
      live_[p] = size;
    }
    return {p, p, &Delete, c10::Device(c10::DeviceType::CPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &Delete; }
#ifdef ICLIT_ALLOCATOR_COPY_DATA
  void copy_data(void* dest, const void* src, std::size_t count) const override { std::memcpy(dest, src, count); }
#endif

  /** Frees every cached buffer. */
  void Trim() const {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& entry : free_)
      for (void* p : entry.second) free(p);
    free_.clear();
    cached_ = 0;
  }
  size_t Cached() const {
    std::lock_guard<std::mutex> lock(mu_);
    return cached_;
  }

  static void Delete(void* p);

  void Release(void* p) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(p);
    const size_t size = it == live_.end() ? 0 : it->second;
    if (it != live_.end()) live_.erase(it);
    if (size >= kSmall && cached_ + size <= limit_) {
      free_[size].push_back(p);
      cached_ += size;
      return;
    }
    free(p);
  }

 private:
  size_t limit_;
  mutable std::mutex mu_;
  mutable std::unordered_map<void*, size_t> live_;
  mutable std::unordered_map<size_t, std::vector<void*>> free_;
  mutable size_t cached_ = 0;
};

CachingCpuAllocator* TensorAllocator() {
  static CachingCpuAllocator* alloc = [] {
    const char* mb = getenv("ICLIT_CPU_CACHE_MB");
    size_t limit = (mb ? static_cast<size_t>(atoll(mb)) : 2048) << 20;
    return new CachingCpuAllocator(limit);  // never destroyed: tensors may outlive module teardown
  }();
  return alloc;
}

void CachingCpuAllocator::Delete(void* p) {
  if (p) TensorAllocator()->Release(p);
}

// ---------- the tensor handle ----------

class Tensor : public Napi::ObjectWrap<Tensor> {
 public:
  static Napi::FunctionReference ctor;
  at::Tensor t;
  int64_t accounted = 0;

  static void Init(Napi::Env env, Napi::Object exports);
  explicit Tensor(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Tensor>(info) {}
  ~Tensor() override { Release(Env()); }

  void Release(Napi::Env env) {
    if (accounted) {
      Napi::MemoryManagement::AdjustExternalMemory(env, -accounted);
      accounted = 0;
    }
    t = at::Tensor();
  }

  static Napi::Value Wrap(Napi::Env env, at::Tensor value) {
    auto obj = ctor.New({});
    auto* self = Unwrap(obj);
    self->t = std::move(value);
    if (self->t.defined() && self->t.device().is_cpu()) {
      self->accounted = static_cast<int64_t>(self->t.numel() * self->t.element_size());
      if (self->accounted) Napi::MemoryManagement::AdjustExternalMemory(env, self->accounted);
    }
    return obj;
  }

  const at::Tensor& get() const {
    if (!t.defined()) throw Napi::Error::New(Env(), "tensor used after dispose()");
    return t;
  }

#define METHOD(name) Napi::Value name(const Napi::CallbackInfo& info)
  METHOD(Shape) { return FromInts(info.Env(), get().sizes()); }
  METHOD(Dtype) { return Napi::String::New(info.Env(), DtypeName(get().scalar_type())); }
  METHOD(Device) { return Napi::String::New(info.Env(), get().device().str()); }
  METHOD(Disposed) { return Napi::Boolean::New(info.Env(), !t.defined()); }
  METHOD(Dispose) {
    Release(info.Env());
    return info.Env().Undefined();
  }
  METHOD(RequiresGrad) { return Napi::Boolean::New(info.Env(), get().requires_grad()); }
  METHOD(Grad) {
    auto g = get().grad();
    if (!g.defined()) return info.Env().Null();
    return Wrap(info.Env(), g);
  }
#undef METHOD
};
Napi::FunctionReference Tensor::ctor;

const at::Tensor& T(const Napi::Value& v) {
  if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(Tensor::ctor.Value()))
    throw std::runtime_error("expected a native tensor");
  return Tensor::Unwrap(v.As<Napi::Object>())->get();
}

std::vector<at::Tensor> TList(const Napi::Value& v) {
  auto a = v.As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) out.push_back(T(a.Get(i)));
  return out;
}

bool IsTensor(const Napi::Value& v) { return v.IsObject() && v.As<Napi::Object>().InstanceOf(Tensor::ctor.Value()); }

c10::optional<at::Tensor> OptT(const Napi::Value& v) {
  if (v.IsUndefined() || v.IsNull()) return c10::nullopt;
  return T(v);
}

at::Scalar S(const Napi::Value& v) {
  if (v.IsBoolean()) return at::Scalar(v.As<Napi::Boolean>().Value());
  return at::Scalar(v.As<Napi::Number>().DoubleValue());
}

using Fn = std::function<Napi::Value(const Napi::CallbackInfo&)>;

// Every exported function runs through here so libtorch errors become JS errors with libtorch's message.
Napi::Value Guard(const Napi::CallbackInfo& info, const Fn& fn) {
  try {
    return fn(info);
  } catch (const c10::Error& e) {
    throw Napi::Error::New(info.Env(), e.what_without_backtrace());
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

Napi::Value W(const Napi::CallbackInfo& info, at::Tensor t) { return Tensor::Wrap(info.Env(), std::move(t)); }

// ---------- functions ----------
// Argument conventions: tensors first, then plain values; scalars may stand where an "other" tensor goes.

struct Registry {
  Napi::Env env;
  Napi::Object exports;
  void add(const char* name, Fn fn) {
    exports.Set(name, Napi::Function::New(env, [fn](const Napi::CallbackInfo& info) { return Guard(info, fn); }, name));
  }
};

#define BINARY(NAME, OP)                                                               \
  r.add(NAME, [](const Napi::CallbackInfo& i) {                                        \
    const auto& a = T(i[0]);                                                           \
    if (IsTensor(i[1])) return W(i, OP(a, T(i[1])));                                   \
    return W(i, OP(a, S(i[1])));                                                       \
  });

#define UNARY(NAME, EXPR) r.add(NAME, [](const Napi::CallbackInfo& i) { const auto& a = T(i[0]); return W(i, EXPR); });

void RegisterOps(Registry& r) {
  // creation and copies
  r.add("fromBuffer", [](const Napi::CallbackInfo& i) {
    auto view = i[0].As<Napi::TypedArray>();
    auto dtype = ParseDtype(i[1].As<Napi::String>());
    auto shape = ToInts(i[2]);
    auto ab = view.ArrayBuffer();
    uint8_t* data = static_cast<uint8_t*>(ab.Data()) + view.ByteOffset();
    auto opts = at::TensorOptions().dtype(dtype);
    int64_t numel = 1;
    for (auto s : shape) numel *= s;
    if (static_cast<size_t>(numel) * c10::elementSize(dtype) != view.ByteLength())
      throw std::runtime_error("buffer holds " + std::to_string(view.ByteLength()) + " bytes, shape needs " +
                               std::to_string(numel * c10::elementSize(dtype)));
    return W(i, at::from_blob(data, shape, opts).clone());
  });
  r.add("toBuffer", [](const Napi::CallbackInfo& i) {
    auto t = T(i[0]).detach().to(at::kCPU).contiguous();
    size_t n = t.numel() * t.element_size();
    auto buf = Napi::Buffer<uint8_t>::Copy(i.Env(), static_cast<uint8_t*>(t.data_ptr()), n);
    return static_cast<Napi::Value>(buf);
  });
  r.add("fromMapping", [](const Napi::CallbackInfo& i) {
    auto* mf = MappedFile::Unwrap(i[0].As<Napi::Object>());
    auto mapping = mf->mapping;
    if (!mapping) throw std::runtime_error("mapped file is closed");
    int64_t offset = i[1].As<Napi::Number>().Int64Value();
    auto dtype = ParseDtype(i[2].As<Napi::String>());
    auto shape = ToInts(i[3]);
    int64_t numel = 1;
    for (auto s : shape) numel *= s;
    int64_t bytes = numel * static_cast<int64_t>(c10::elementSize(dtype));
    if (offset < 0 || offset + bytes > static_cast<int64_t>(mapping->size)) throw std::runtime_error("tensor lies outside the mapped file");
    void* ptr = static_cast<uint8_t*>(mapping->addr) + offset;
    // The tensor keeps the mapping alive; weights are never written in place, so a read-only page is safe.
    auto t = at::from_blob(ptr, shape, [mapping](void*) {}, at::TensorOptions().dtype(dtype));
    return W(i, t);
  });
  r.add("zeros", [](const Napi::CallbackInfo& i) { return W(i, at::zeros(ToInts(i[0]), at::TensorOptions().dtype(ParseDtype(i[1].As<Napi::String>())))); });
  r.add("ones", [](const Napi::CallbackInfo& i) { return W(i, at::ones(ToInts(i[0]), at::TensorOptions().dtype(ParseDtype(i[1].As<Napi::String>())))); });
  r.add("full", [](const Napi::CallbackInfo& i) { return W(i, at::full(ToInts(i[0]), S(i[1]), at::TensorOptions().dtype(ParseDtype(i[2].As<Napi::String>())))); });
  r.add("arange", [](const Napi::CallbackInfo& i) {
    return W(i, at::arange(S(i[0]), S(i[1]), S(i[2]), at::TensorOptions().dtype(ParseDtype(i[3].As<Napi::String>()))));
  });
  r.add("randn", [](const Napi::CallbackInfo& i) { return W(i, at::randn(ToInts(i[0]), at::TensorOptions().dtype(ParseDtype(i[1].As<Napi::String>())))); });
  r.add("rand", [](const Napi::CallbackInfo& i) { return W(i, at::rand(ToInts(i[0]), at::TensorOptions().dtype(ParseDtype(i[1].As<Napi::String>())))); });
  r.add("uniform", [](const Napi::CallbackInfo& i) {
    auto t = at::empty(ToInts(i[0]), at::TensorOptions().dtype(ParseDtype(i[3].As<Napi::String>())));
    t.uniform_(i[1].As<Napi::Number>().DoubleValue(), i[2].As<Napi::Number>().DoubleValue());
    return W(i, t);
  });
  r.add("bernoulli", [](const Napi::CallbackInfo& i) { return W(i, at::bernoulli(T(i[0]))); });
  r.add("to", [](const Napi::CallbackInfo& i) { return W(i, T(i[0]).to(ParseDtype(i[1].As<Napi::String>()))); });
  r.add("toDevice", [](const Napi::CallbackInfo& i) { return W(i, T(i[0]).to(at::Device(std::string(i[1].As<Napi::String>())))); });
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
  r.add("triu", [](const Napi::CallbackInfo& i) { return W(i, at::triu(T(i[0]), i[1].As<Napi::Number>().Int64Value())); });
  r.add("tril", [](const Napi::CallbackInfo& i) { return W(i, at::tril(T(i[0]), i[1].As<Napi::Number>().Int64Value())); });

  // linear algebra
  r.add("matmul", [](const Napi::CallbackInfo& i) { return W(i, at::matmul(T(i[0]), T(i[1]))); });
  r.add("bmm", [](const Napi::CallbackInfo& i) { return W(i, at::bmm(T(i[0]), T(i[1]))); });
  r.add("linear", [](const Napi::CallbackInfo& i) { return W(i, at::linear(T(i[0]), T(i[1]), OptT(i[2]))); });

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
  r.add("argmax", [](const Napi::CallbackInfo& i) { return W(i, at::argmax(T(i[0]), i[1].As<Napi::Number>().Int64Value(), i[2].ToBoolean())); });
  r.add("softmax", [](const Napi::CallbackInfo& i) { return W(i, at::softmax(T(i[0]), i[1].As<Napi::Number>().Int64Value())); });
  r.add("logSoftmax", [](const Napi::CallbackInfo& i) { return W(i, at::log_softmax(T(i[0]), i[1].As<Napi::Number>().Int64Value())); });
  r.add("cumsum", [](const Napi::CallbackInfo& i) { return W(i, at::cumsum(T(i[0]), i[1].As<Napi::Number>().Int64Value())); });

  // shapes and indexing
  r.add("reshape", [](const Napi::CallbackInfo& i) { return W(i, T(i[0]).reshape(ToInts(i[1]))); });
  r.add("permute", [](const Napi::CallbackInfo& i) { return W(i, T(i[0]).permute(ToInts(i[1]))); });
  r.add("transpose", [](const Napi::CallbackInfo& i) {
    return W(i, T(i[0]).transpose(i[1].As<Napi::Number>().Int64Value(), i[2].As<Napi::Number>().Int64Value()));
  });
  r.add("unsqueeze", [](const Napi::CallbackInfo& i) { return W(i, T(i[0]).unsqueeze(i[1].As<Napi::Number>().Int64Value())); });
  r.add("squeeze", [](const Napi::CallbackInfo& i) { return W(i, T(i[0]).squeeze(i[1].As<Napi::Number>().Int64Value())); });
  r.add("expand", [](const Napi::CallbackInfo& i) { return W(i, T(i[0]).expand(ToInts(i[1]))); });
  r.add("repeatInterleave", [](const Napi::CallbackInfo& i) {
    return W(i, T(i[0]).repeat_interleave(i[1].As<Napi::Number>().Int64Value(), i[2].As<Napi::Number>().Int64Value()));
  });
  r.add("slice", [](const Napi::CallbackInfo& i) {
    return W(i, T(i[0]).slice(i[1].As<Napi::Number>().Int64Value(), i[2].As<Napi::Number>().Int64Value(), i[3].As<Napi::Number>().Int64Value(),
                              i[4].IsNumber() ? i[4].As<Napi::Number>().Int64Value() : 1));
  });
  r.add("select", [](const Napi::CallbackInfo& i) {
    return W(i, T(i[0]).select(i[1].As<Napi::Number>().Int64Value(), i[2].As<Napi::Number>().Int64Value()));
  });
  r.add("cat", [](const Napi::CallbackInfo& i) { return W(i, at::cat(TList(i[0]), i[1].As<Napi::Number>().Int64Value())); });
  r.add("stack", [](const Napi::CallbackInfo& i) { return W(i, at::stack(TList(i[0]), i[1].As<Napi::Number>().Int64Value())); });
  r.add("indexSelect", [](const Napi::CallbackInfo& i) { return W(i, at::index_select(T(i[0]), i[1].As<Napi::Number>().Int64Value(), T(i[2]))); });
  r.add("gather", [](const Napi::CallbackInfo& i) { return W(i, at::gather(T(i[0]), i[1].As<Napi::Number>().Int64Value(), T(i[2]))); });
  r.add("embedding", [](const Napi::CallbackInfo& i) { return W(i, at::embedding(T(i[0]), T(i[1]))); });

  // neural-network functions
  r.add("layerNorm", [](const Napi::CallbackInfo& i) {
    return W(i, at::layer_norm(T(i[0]), ToInts(i[1]), OptT(i[2]), OptT(i[3]), i[4].As<Napi::Number>().DoubleValue()));
  });
  r.add("dropout", [](const Napi::CallbackInfo& i) { return W(i, at::dropout(T(i[0]), i[1].As<Napi::Number>().DoubleValue(), i[2].ToBoolean())); });
  r.add("crossEntropy", [](const Napi::CallbackInfo& i) {
    // reduction: 0 none, 1 mean, 2 sum (at::Reduction)
    return W(i, at::cross_entropy_loss(T(i[0]), T(i[1]), {}, i[2].As<Napi::Number>().Int64Value(), i[3].As<Napi::Number>().Int64Value()));
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

  // runtime
  r.add("manualSeed", [](const Napi::CallbackInfo& i) {
    torch::manual_seed(static_cast<uint64_t>(i[0].As<Napi::Number>().Int64Value()));
    return i.Env().Undefined();
  });
  r.add("setNumThreads", [](const Napi::CallbackInfo& i) {
    at::set_num_threads(static_cast<int>(i[0].As<Napi::Number>().Int32Value()));
    return i.Env().Undefined();
  });
  r.add("getNumThreads", [](const Napi::CallbackInfo& i) { return Napi::Number::New(i.Env(), at::get_num_threads()); });
  r.add("cudaIsAvailable", [](const Napi::CallbackInfo& i) { return Napi::Boolean::New(i.Env(), torch::cuda::is_available()); });
  r.add("cudaSynchronize", [](const Napi::CallbackInfo& i) {
    if (torch::cuda::is_available()) torch::cuda::synchronize();
    return i.Env().Undefined();
  });
  r.add("version", [](const Napi::CallbackInfo& i) { return Napi::String::New(i.Env(), TORCH_VERSION); });
  r.add("trimTensorCache", [](const Napi::CallbackInfo& i) {
    TensorAllocator()->Trim();
    return i.Env().Undefined();
  });
  r.add("tensorCacheBytes", [](const Napi::CallbackInfo& i) { return Napi::Number::New(i.Env(), static_cast<double>(TensorAllocator()->Cached())); });
  r.add("parallelInfo", [](const Napi::CallbackInfo& i) { return Napi::String::New(i.Env(), at::get_parallel_info()); });
}

void Tensor::Init(Napi::Env env, Napi::Object exports) {
  auto f = DefineClass(env, "Tensor",
                       {
                           InstanceAccessor<&Tensor::Shape>("shape"),
                           InstanceAccessor<&Tensor::Dtype>("dtype"),
                           InstanceAccessor<&Tensor::Device>("device"),
                           InstanceAccessor<&Tensor::Disposed>("disposed"),
                           InstanceAccessor<&Tensor::RequiresGrad>("requiresGrad"),
                           InstanceAccessor<&Tensor::Grad>("grad"),
                           InstanceMethod<&Tensor::Dispose>("dispose"),
                       });
  ctor = Napi::Persistent(f);
  exports.Set("Tensor", f);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  c10::SetCPUAllocator(TensorAllocator(), /*priority=*/10);
  Tensor::Init(env, exports);
  MappedFile::Init(env, exports);
  Registry r{env, exports};
  RegisterOps(r);
  return exports;
}

}  // namespace

NODE_API_MODULE(iclit_torch, Init)
