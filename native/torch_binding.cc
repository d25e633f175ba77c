// The only C++ in iclit, part 1: the module, the tensor handle, memory-mapped files and argument conversion.
#include "binding.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace iclit {

// ---------- dtype, shape and device conversion ----------

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

std::vector<double> ToDoubles(const Napi::Value& v) {
  if (!v.IsArray()) throw std::runtime_error("expected an array of numbers");
  auto a = v.As<Napi::Array>();
  std::vector<double> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) out[i] = a.Get(i).As<Napi::Number>().DoubleValue();
  return out;
}

Napi::Array FromInts(Napi::Env env, at::IntArrayRef xs) {
  auto a = Napi::Array::New(env, xs.size());
  for (size_t i = 0; i < xs.size(); i++) a.Set(i, Napi::Number::New(env, static_cast<double>(xs[i])));
  return a;
}

at::Device ParseDevice(const Napi::Value& v) {
  if (v.IsUndefined() || v.IsNull()) return at::Device(at::kCPU);
  return at::Device(std::string(v.As<Napi::String>()));
}

at::Scalar S(const Napi::Value& v) {
  if (v.IsBoolean()) return at::Scalar(v.As<Napi::Boolean>().Value());
  return at::Scalar(v.As<Napi::Number>().DoubleValue());
}
int64_t I(const Napi::Value& v) { return v.As<Napi::Number>().Int64Value(); }
double D(const Napi::Value& v) { return v.As<Napi::Number>().DoubleValue(); }

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

bool IsTensor(const Napi::Value& v) { return v.IsObject() && v.As<Napi::Object>().InstanceOf(Tensor::ctor.Value()); }

const at::Tensor& T(const Napi::Value& v) {
  if (!IsTensor(v)) throw std::runtime_error("expected a native tensor");
  return Tensor::Unwrap(v.As<Napi::Object>())->get();
}

std::vector<at::Tensor> TList(const Napi::Value& v) {
  auto a = v.As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) out.push_back(T(a.Get(i)));
  return out;
}

c10::optional<at::Tensor> OptT(const Napi::Value& v) {
  if (v.IsUndefined() || v.IsNull()) return c10::nullopt;
  return T(v);
}

Napi::Value W(const Napi::CallbackInfo& info, at::Tensor t) { return Tensor::Wrap(info.Env(), std::move(t)); }

// Every exported function runs through here so libtorch errors become JS errors with libtorch's message.
static Napi::Value Guard(const Napi::CallbackInfo& info, const Fn& fn) {
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

void Registry::add(const char* name, Fn fn) {
  exports.Set(name, Napi::Function::New(env, [fn](const Napi::CallbackInfo& info) { return Guard(info, fn); }, name));
}

// Creation from memory the binding does not own: JS buffers (copied) and file mappings (viewed).
static void RegisterMemory(Registry& r) {
  r.add("fromBuffer", [](const Napi::CallbackInfo& i) {
    auto view = i[0].As<Napi::TypedArray>();
    auto dtype = ParseDtype(i[1].As<Napi::String>());
    auto shape = ToInts(i[2]);
    auto ab = view.ArrayBuffer();
    uint8_t* data = static_cast<uint8_t*>(ab.Data()) + view.ByteOffset();
    int64_t numel = 1;
    for (auto s : shape) numel *= s;
    if (static_cast<size_t>(numel) * c10::elementSize(dtype) != view.ByteLength())
      throw std::runtime_error("buffer holds " + std::to_string(view.ByteLength()) + " bytes, shape needs " +
                               std::to_string(numel * c10::elementSize(dtype)));
    auto host = at::from_blob(data, shape, at::TensorOptions().dtype(dtype));
    auto device = ParseDevice(i[3]);
    return W(i, device.is_cpu() ? host.clone() : host.to(device));
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
    int64_t offset = I(i[1]);
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
}

}  // namespace iclit

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  iclit::InstallCpuAllocator();
  iclit::Tensor::Init(env, exports);
  iclit::MappedFile::Init(env, exports);
  iclit::Registry r{env, exports};
  iclit::RegisterMemory(r);
  iclit::RegisterOps(r);
  iclit::RegisterFused(r);
  iclit::RegisterRuntime(r);
  iclit::RegisterTrainOps(r);
  return exports;
}

NODE_API_MODULE(iclit_torch, Init)
