// The runtime: threads (libtorch and OpenBLAS), seeds, CUDA devices and their memory, the CPU cache, the op profiler.
#include "binding.h"

#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/cuda.h>
#include <torch/utils.h>
#include <torch/version.h>
#if TORCH_VERSION_MAJOR < 2
#include <torch/csrc/autograd/profiler_legacy.h>
#endif

#include <dlfcn.h>
#include <omp.h>

#include <atomic>
#include <limits>
#include <memory>

namespace iclit {
// OpenBLAS keeps its own thread pool beside libtorch's OpenMP one; reach it when it is loaded (Debian's libtorch).
void* OpenBlasSymbol(const char* symbol) {
  static void* handle = dlopen("libopenblas.so.0", RTLD_LAZY | RTLD_NOLOAD);
  return handle ? dlsym(handle, symbol) : nullptr;
}

namespace {
enum { kRowMajor = 101, kNoTrans = 111, kTrans = 112 };
using CblasSgemm = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*, int);
CblasSgemm CblasSgemmFn() {
  static auto fn = reinterpret_cast<CblasSgemm>(OpenBlasSymbol("cblas_sgemm"));
  return fn;
}
std::atomic<bool> directKernels{true};
}  // namespace

void Sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
           int64_t ldc) {
  constexpr int64_t kMax = std::numeric_limits<int>::max();
  if (m > kMax || n > kMax || k > kMax || lda > kMax || ldb > kMax || ldc > kMax) throw std::runtime_error("sgemm: a dimension exceeds 32-bit BLAS");
  CblasSgemmFn()(kRowMajor, transA ? kTrans : kNoTrans, transB ? kTrans : kNoTrans, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a,
                 static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}
bool DirectKernels() { return directKernels; }
bool DirectBlas() { return directKernels && CblasSgemmFn() != nullptr; }
void SetDirectKernels(bool on) { directKernels = on; }
bool DirectBlasAvailable() { return CblasSgemmFn() != nullptr; }

SmallGemmScope::SmallGemmScope(bool small) {
  if (!small) return;
  static auto get = reinterpret_cast<int (*)()>(OpenBlasSymbol("openblas_get_num_threads"));
  static auto set = reinterpret_cast<void (*)(int)>(OpenBlasSymbol("openblas_set_num_threads"));
  if (!get || !set) return;
  const int n = get();
  if (n > 1) {
    set(1);
    restore_ = n;
  }
}

SmallGemmScope::~SmallGemmScope() {
  static auto set = reinterpret_cast<void (*)(int)>(OpenBlasSymbol("openblas_set_num_threads"));
  if (restore_ && set) set(restore_);
}

namespace {

// The CUDA driver API, opened at run time: device names and memory need no CUDA headers at build time, so one
// source builds against CPU-only and CUDA libtorch alike.
struct Driver {
  int (*init)(unsigned) = nullptr;
  int (*deviceGet)(int*, int) = nullptr;
  int (*name)(char*, int, int) = nullptr;
  int (*totalMem)(size_t*, int) = nullptr;
  int (*attribute)(int*, int, int) = nullptr;
  int (*memGetInfo)(size_t*, size_t*) = nullptr;
  bool ok = false;
};

const Driver& CudaDriver() {
  static Driver d = [] {
    Driver x;
    void* h = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
    if (!h) return x;
    x.init = reinterpret_cast<int (*)(unsigned)>(dlsym(h, "cuInit"));
    x.deviceGet = reinterpret_cast<int (*)(int*, int)>(dlsym(h, "cuDeviceGet"));
    x.name = reinterpret_cast<int (*)(char*, int, int)>(dlsym(h, "cuDeviceGetName"));
    x.totalMem = reinterpret_cast<int (*)(size_t*, int)>(dlsym(h, "cuDeviceTotalMem_v2"));
    x.attribute = reinterpret_cast<int (*)(int*, int, int)>(dlsym(h, "cuDeviceGetAttribute"));
    x.memGetInfo = reinterpret_cast<int (*)(size_t*, size_t*)>(dlsym(h, "cuMemGetInfo_v2"));
    x.ok = x.init && x.deviceGet && x.name && x.totalMem && x.attribute && x.init(0) == 0;
    return x;
  }();
  return d;
}

#if TORCH_VERSION_MAJOR < 2
std::unique_ptr<torch::autograd::profiler::RecordProfile> profile;
#endif

}  // namespace

void RegisterRuntime(Registry& r) {
  r.add("manualSeed", [](const Napi::CallbackInfo& i) {
    torch::manual_seed(static_cast<uint64_t>(I(i[0])));  // the CPU generator and every CUDA one
    return i.Env().Undefined();
  });

  // threads
  r.add("setNumThreads", [](const Napi::CallbackInfo& i) {
    const int n = static_cast<int>(I(i[0]));
    at::set_num_threads(n);
    // The kernels' at::parallel_for regions are compiled here (-fopenmp) and run on the OpenMP runtime this binary
    // binds; where libtorch carries its own copy (pip wheels vendor libgomp), that one is a second pool to size too.
    omp_set_num_threads(n);
    return i.Env().Undefined();
  });
  r.add("getNumThreads", [](const Napi::CallbackInfo& i) { return Napi::Number::New(i.Env(), at::get_num_threads()); });
  r.add("blasThreads", [](const Napi::CallbackInfo& i) {
    auto get = reinterpret_cast<int (*)()>(OpenBlasSymbol("openblas_get_num_threads"));
    return get ? Napi::Number::New(i.Env(), get()) : i.Env().Null();
  });
  r.add("setBlasThreads", [](const Napi::CallbackInfo& i) {
    auto set = reinterpret_cast<void (*)(int)>(OpenBlasSymbol("openblas_set_num_threads"));
    if (set) set(static_cast<int>(I(i[0])));
    return Napi::Boolean::New(i.Env(), set != nullptr);
  });
  r.add("parallelInfo", [](const Napi::CallbackInfo& i) { return Napi::String::New(i.Env(), at::get_parallel_info()); });
  r.add("version", [](const Napi::CallbackInfo& i) { return Napi::String::New(i.Env(), TORCH_VERSION); });

  // devices
  r.add("cudaIsAvailable", [](const Napi::CallbackInfo& i) { return Napi::Boolean::New(i.Env(), torch::cuda::is_available()); });
  r.add("cudaDeviceCount", [](const Napi::CallbackInfo& i) { return Napi::Number::New(i.Env(), static_cast<double>(torch::cuda::device_count())); });
  r.add("cudaSynchronize", [](const Napi::CallbackInfo& i) {
    if (torch::cuda::is_available()) torch::cuda::synchronize();
    return i.Env().Undefined();
  });
  r.add("cudaVersion", [](const Napi::CallbackInfo& i) {
    const auto& hooks = at::detail::getCUDAHooks();
    if (!hooks.hasCUDA()) return i.Env().Null();
    long v = hooks.versionCUDART();  // e.g. 12080
    return Napi::String::New(i.Env(), std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10)).As<Napi::Value>();
  });
  // {name, totalMemory, major, minor, free} of CUDA device `index`, or null without a driver.
  r.add("cudaDeviceInfo", [](const Napi::CallbackInfo& i) {
    const auto& d = CudaDriver();
    if (!d.ok) return i.Env().Null();
    int dev = 0;
    if (d.deviceGet(&dev, static_cast<int>(I(i[0]))) != 0) return i.Env().Null();
    char name[256] = {0};
    size_t total = 0;
    int major = 0, minor = 0;
    d.name(name, sizeof name, dev);
    d.totalMem(&total, dev);
    d.attribute(&major, 75, dev);  // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
    d.attribute(&minor, 76, dev);  // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR
    auto o = Napi::Object::New(i.Env());
    o.Set("name", std::string(name));
    o.Set("totalMemory", static_cast<double>(total));
    o.Set("major", major);
    o.Set("minor", minor);
    size_t freeBytes = 0, totalCtx = 0;
    // Needs a current context (libtorch makes one on first use of the device); otherwise free memory is unknown.
    if (d.memGetInfo && d.memGetInfo(&freeBytes, &totalCtx) == 0) o.Set("free", static_cast<double>(freeBytes));
    return o.As<Napi::Value>();
  });
  // float32 matmuls in full precision on CUDA (no TF32), so that CPU and GPU agree; set once at load.
  r.add("disableTf32", [](const Napi::CallbackInfo& i) {
    at::globalContext().setAllowTF32CuBLAS(false);
    at::globalContext().setAllowTF32CuDNN(false);
    return i.Env().Undefined();
  });

  // CPU tensor cache
  r.add("cacheStats", [](const Napi::CallbackInfo& i) {
    auto s = CpuCacheStats();
    auto o = Napi::Object::New(i.Env());
    o.Set("cached", static_cast<double>(s.cached));
    o.Set("live", static_cast<double>(s.live));
    o.Set("peakLive", static_cast<double>(s.peakLive));
    o.Set("limit", static_cast<double>(s.limit));
    return o;
  });
  r.add("trimCache", [](const Napi::CallbackInfo& i) { return Napi::Number::New(i.Env(), static_cast<double>(TrimCpuCache())); });
  r.add("resetPeak", [](const Napi::CallbackInfo& i) {
    ResetCpuPeak();
    return i.Env().Undefined();
  });

  // libtorch's op profiler (the legacy one in 1.x): a chrome trace of every op, forward and backward.
  r.add("profileStart", [](const Napi::CallbackInfo& i) -> Napi::Value {
#if TORCH_VERSION_MAJOR < 2
    profile = std::make_unique<torch::autograd::profiler::RecordProfile>(std::string(i[0].As<Napi::String>()));
    return i.Env().Undefined();
#else
    throw std::runtime_error("the op profiler is wired for libtorch 1.x only");
#endif
  });
  r.add("profileStop", [](const Napi::CallbackInfo& i) {
#if TORCH_VERSION_MAJOR < 2
    profile.reset();
#endif
    return i.Env().Undefined();
  });
}

}  // namespace iclit
