// Shared declarations of the binding's translation units: argument conversion, the tensor handle, op registration.
#pragma once
#include <napi.h>
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include <functional>
#include <string>
#include <vector>

namespace iclit {

// ---------- argument conversion (torch_binding.cc) ----------
at::ScalarType ParseDtype(const std::string& s);
std::string DtypeName(at::ScalarType t);
std::vector<int64_t> ToInts(const Napi::Value& v);
std::vector<double> ToDoubles(const Napi::Value& v);
Napi::Array FromInts(Napi::Env env, at::IntArrayRef xs);
/** 'cpu', 'cuda', 'cuda:N'; undefined or null means the CPU. */
at::Device ParseDevice(const Napi::Value& v);
const at::Tensor& T(const Napi::Value& v);
std::vector<at::Tensor> TList(const Napi::Value& v);
bool IsTensor(const Napi::Value& v);
c10::optional<at::Tensor> OptT(const Napi::Value& v);
at::Scalar S(const Napi::Value& v);
int64_t I(const Napi::Value& v);
double D(const Napi::Value& v);
/** Wraps a libtorch tensor as a JS handle. */
Napi::Value W(const Napi::CallbackInfo& info, at::Tensor t);

using Fn = std::function<Napi::Value(const Napi::CallbackInfo&)>;

/** Adds exported functions; every one runs through a guard that turns libtorch errors into JS errors. */
struct Registry {
  Napi::Env env;
  Napi::Object exports;
  void add(const char* name, Fn fn);
};

void RegisterOps(Registry& r);      // ops.cc: creation, elementwise, linear algebra, reductions, shapes, autograd
void RegisterFused(Registry& r);    // fused.cc: RMSNorm, RoPE, packed attention (its CPU float32 path: attention_cpu.cc), segment LoRA, dropout masks
void RegisterRuntime(Registry& r);  // runtime.cc: threads, seeds, devices, memory, profiler
void RegisterTrainOps(Registry& r); // train_ops.cc: the LoRA update as one autograd node, AdamW over a list, leaves' gradients

// ---------- the CPU tensor cache (allocator.cc) ----------
struct CacheStats {
  size_t cached = 0;    // bytes held for reuse
  size_t live = 0;      // bytes in live tensors
  size_t peakLive = 0;  // highest `live` since the last ResetPeak
  size_t limit = 0;     // the cache's byte cap
};
void InstallCpuAllocator();
CacheStats CpuCacheStats();
/** Frees every cached buffer (and returns the C heap's free pages); returns the bytes released from the cache. */
size_t TrimCpuCache();
void ResetCpuPeak();

// ---------- OpenBLAS threads (runtime.cc) ----------
/**
 * While alive, OpenBLAS runs on one thread when `small` (and OpenBLAS is loaded): a GEMM of a few million
 * multiply-adds spends longer waking a second BLAS thread than computing (30× slower per attention GEMM on a
 * loaded 2-core machine), so the per-sequence attention and LoRA GEMMs run single-threaded. Restores the count.
 */
struct SmallGemmScope {
  explicit SmallGemmScope(bool small);
  ~SmallGemmScope();
  SmallGemmScope(const SmallGemmScope&) = delete;
  SmallGemmScope& operator=(const SmallGemmScope&) = delete;
 private:
  int restore_ = 0;
};
/**
 * Runs task(i, thread) for every i < n spread over the intra-op threads, each task's GEMMs single-threaded, and
 * returns true; returns false without running anything when there are fewer tasks than threads (or one thread), and
 * the caller runs them in turn. Why: small GEMMs (SmallGemmScope) one at a time leave the other cores idle. Tasks
 * must write disjoint outputs, so results do not depend on the thread count.
 */
template <typename Task>
bool SpreadSmallGemms(int64_t n, const Task& task) {
  const int64_t threads = at::get_num_threads();
  if (threads < 2 || n < threads) return false;
  const SmallGemmScope single(true);
  at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) task(i, at::get_thread_num());
  });
  return true;
}
/** A symbol of the loaded OpenBLAS (nullptr when libtorch runs on another BLAS). */
void* OpenBlasSymbol(const char* symbol);

/**
 * C = alpha·op(A)·op(B) + beta·C on row-major float32 CPU memory through the loaded OpenBLAS's cblas_sgemm: the
 * float32 CPU kernels (packed attention, the LoRA update) call it on strided views of their tensors, one call per
 * small GEMM instead of a libtorch op with its dispatch, views and output tensor. Only when DirectBlas().
 */
void Sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
           int64_t ldc);
/**
 * The float32 CPU kernels written out here (BLAS called directly, loops for the elementwise rest) are on; tests
 * switch them off to compare with the libtorch-op path every other device and dtype takes.
 */
bool DirectKernels();
void SetDirectKernels(bool on);
/** DirectKernels() and OpenBLAS is loaded (Sgemm can be called). */
bool DirectBlas();
bool DirectBlasAvailable();

/** Multiply-adds below which one GEMM counts as small (SmallGemmScope). */
constexpr int64_t kSmallGemm = int64_t(1) << 22;

// ---------- linear layers and matmuls: bfloat16 GEMMs widened on CPUs without native bfloat16 (linear.cc) ----------
/** When on, CPU bfloat16 GEMMs run as float32 GEMMs on exactly widened operands (output rounded to bfloat16). */
void SetEmulateBf16(bool on);
bool EmulateBf16();
at::Tensor Linear(const at::Tensor& x, const at::Tensor& w, const c10::optional<at::Tensor>& b);
at::Tensor Matmul(const at::Tensor& a, const at::Tensor& b);
/** Inverted-dropout masks [Σ lengths, width], sequence i's rows from its 32-bit seed seeds[i] alone, the same bits on every device (fused.cc). */
at::Tensor DropoutMask(const std::vector<double>& seeds, const std::vector<int64_t>& lengths, int64_t width, double p, at::Device device, bool tensorOps = false);

// ---------- CPU loops for the decoder's elementwise ops (elementwise_cpu.cc) ----------
/** The loops apply: DirectKernels() on and every tensor float32, on the CPU, contiguous. */
bool UseCpuLoops(std::initializer_list<at::Tensor> ts);
/** y = w ⊙ x·inv with inv = (mean x² + eps)^(-1/2) per row, returned through `inv` ([..., 1]). */
at::Tensor RmsNormForwardLoop(const at::Tensor& x, const at::Tensor& w, double eps, at::Tensor& inv);
at::Tensor RmsNormBackwardLoop(const at::Tensor& x, const at::Tensor& w, const at::Tensor& inv, const at::Tensor& g);
/** x·cos + rotate_half(x)·sin (transpose: x·cos + rotate_halfᵀ(x·sin), RoPE's backward); x [N, H, D], tables [N, 1, D]. */
at::Tensor RopeLoop(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin, bool transpose);
/** silu(g) ⊙ u, and its gradients (dg, du) for dy; g, u, dy bfloat16 of one shape (float32 runs libtorch's silu and mul). */
at::Tensor SwiGluForwardLoop(const at::Tensor& g, const at::Tensor& u);
std::pair<at::Tensor, at::Tensor> SwiGluBackwardLoop(const at::Tensor& g, const at::Tensor& u, const at::Tensor& dy);
/**
 * The RMSNorm and RoPE loops also take bfloat16 (every tensor but RMSNorm's inv), SwiGLU's takes only bfloat16: rows
 * widened exactly, computed in float32, the results rounded to bfloat16 once (as the GEMMs). They apply:
 * DirectKernels() on and every tensor bfloat16, on the CPU, contiguous.
 */
bool UseWidenedLoops(std::initializer_list<at::Tensor> ts);
/**
 * bfloat16 → float32 (exact) and float32 → bfloat16 (round to nearest even, as libtorch's `to`), as loops on the
 * intra-op threads where UseWidenedLoops / UseCpuLoops applies, else libtorch's `to`: the widened linear layers
 * convert every input, weight and output, forward and backward (`copy_` in `npm run bench profile`'s bfloat16 step).
 */
at::Tensor WidenToFloat(const at::Tensor& x);
at::Tensor RoundToBf16(const at::Tensor& x);
/** `t.to(dtype)` (no autograd), bfloat16 ↔ float32 through WidenToFloat / RoundToBf16: for the custom functions' casts. */
at::Tensor ToDtype(const at::Tensor& t, at::ScalarType dtype);
/** The raw 16-bit words of a contiguous bfloat16 tensor. */
inline const uint16_t* Bf16(const at::Tensor& t) { return reinterpret_cast<const uint16_t*>(t.data_ptr<at::BFloat16>()); }
inline uint16_t* Bf16(at::Tensor& t) { return reinterpret_cast<uint16_t*>(t.data_ptr<at::BFloat16>()); }
/** Values per piece of an elementwise loop on the intra-op threads (smaller pieces cost more to hand out than to run). */
constexpr int64_t kElementGrain = int64_t(1) << 14;
/** The same conversions on n contiguous values (bfloat16 as its raw 16-bit words). */
void WidenSpan(const uint16_t* in, float* out, int64_t n);
void RoundSpan(const float* in, uint16_t* out, int64_t n);

// ---------- packed attention through BLAS on the CPU (attention_cpu.cc) ----------
/** Whether packed attention of these tensors takes the BLAS path: float32 or bfloat16 (computed in float32) on the CPU, OpenBLAS loaded, not switched off. */
bool UseBlasAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v);
at::Tensor BlasAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const std::vector<int64_t>& lengths, double scale, int64_t window);

}  // namespace iclit
