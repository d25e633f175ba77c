// The CPU tensor allocator: a bounded cache of buffers by size class, trimmable, with big buffers mapped directly.
#include "binding.h"

#include <c10/core/CPUAllocator.h>
#include <torch/version.h>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

// libtorch 2.3 made Allocator::allocate non-const and added copy_data; support both sides.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 3)
#define ICLIT_ALLOCATE_CONST
#define ICLIT_ALLOCATOR_COPY_DATA 1
#else
#define ICLIT_ALLOCATE_CONST const
#endif

namespace iclit {
namespace {

/*
 * Why a cache: a forward pass allocates the same sizes again and again, and a fresh buffer costs a page fault per
 * 4 KiB (about a quarter of a float32 matmul's time here). Why size classes: prompts of varying length make every
 * activation a new exact size, and a cache keyed on exact sizes keeps adding buffers it never reuses (the study's
 * RSS grew with every chunk). Requests are rounded up to one of four classes per power of two (at most 25% slack),
 * so a run touches a few dozen classes. Why direct mmap for big buffers: freed into glibc's heap they get pinned by
 * small neighbours and glibc raises its mmap threshold, so RSS never comes down; an unmapped buffer is really gone.
 * The cache holds at most `limit_` bytes (ICLIT_CPU_CACHE_MB, default 1024); Trim() empties it.
 */
constexpr size_t kSmall = 4096;             // below: plain malloc, not cached
constexpr size_t kMapped = 256 << 10;       // from here: anonymous mmap
constexpr size_t kHuge = 2 << 20;           // from here: ask for transparent huge pages

size_t SizeClass(size_t n) {
  if (n < kSmall) return n;
  size_t p = size_t{1} << (63 - __builtin_clzll(n));  // largest power of two ≤ n
  if (p == n) return n;
  const size_t quarter = p / 4;
  size_t c = (n + quarter - 1) / quarter * quarter;  // p·{1.25, 1.5, 1.75, 2}
  return (c + 4095) / 4096 * 4096;
}

void* MapBuffer(size_t size) {
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  if (size >= kHuge) madvise(p, size, MADV_HUGEPAGE);  // one fault per 2 MiB instead of per 4 KiB
#endif
  return p;
}

void FreeBuffer(void* p, size_t size) {
  if (size >= kMapped) munmap(p, size);
  else free(p);
}

class CachingCpuAllocator final : public c10::Allocator {
 public:
  explicit CachingCpuAllocator(size_t limit) : limit_(limit) {}

  c10::DataPtr allocate(size_t n) ICLIT_ALLOCATE_CONST override {
    const size_t size = SizeClass(n);
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
      live_bytes_ += size;
      if (live_bytes_ > peak_) peak_ = live_bytes_;
    }
    if (!p) {
      try {
        if (size >= kMapped) p = MapBuffer(size);
        else if (posix_memalign(&p, 64, size > 0 ? size : 1) != 0 || !p) throw std::bad_alloc();
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu_);
        live_bytes_ -= size;
        throw;
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      live_[p] = size;  // data == context, as libtorch's raw_allocate requires; the size is looked up on free
    }
    return {p, p, &Delete, c10::Device(c10::DeviceType::CPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &Delete; }
#ifdef ICLIT_ALLOCATOR_COPY_DATA
  void copy_data(void* dest, const void* src, std::size_t count) const override { std::memcpy(dest, src, count); }
#endif

  static void Delete(void* p);

  void Release(void* p) const {
    size_t size = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = live_.find(p);
      if (it == live_.end()) return;  // not ours (cannot happen for tensors we allocated)
      size = it->second;
      live_.erase(it);
      live_bytes_ -= size;
      if (size >= kSmall && cached_ + size <= limit_) {
        free_[size].push_back(p);
        cached_ += size;
        return;
      }
    }
    FreeBuffer(p, size);
  }

  size_t Trim() const {
    std::unordered_map<size_t, std::vector<void*>> drop;
    size_t released;
    {
      std::lock_guard<std::mutex> lock(mu_);
      drop.swap(free_);
      released = cached_;
      cached_ = 0;
    }
    for (auto& entry : drop)
      for (void* p : entry.second) FreeBuffer(p, entry.first);
    malloc_trim(0);  // small buffers and libtorch's own mallocs: give glibc's free pages back too
    return released;
  }

  CacheStats Stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    return CacheStats{cached_, live_bytes_, peak_, limit_};
  }
  void ResetPeak() const {
    std::lock_guard<std::mutex> lock(mu_);
    peak_ = live_bytes_;
  }

 private:
  size_t limit_;
  mutable std::mutex mu_;
  mutable std::unordered_map<void*, size_t> live_;
  mutable std::unordered_map<size_t, std::vector<void*>> free_;
  mutable size_t cached_ = 0;
  mutable size_t live_bytes_ = 0;
  mutable size_t peak_ = 0;
};

CachingCpuAllocator* TheAllocator() {
  static CachingCpuAllocator* alloc = [] {
    const char* mb = getenv("ICLIT_CPU_CACHE_MB");
    size_t limit = static_cast<size_t>(mb ? atoll(mb) : 1024) << 20;
    // glibc's dynamic mmap threshold would otherwise grow after big frees and keep later buffers in its heap.
    mallopt(M_MMAP_THRESHOLD, static_cast<int>(kMapped));
    return new CachingCpuAllocator(limit);  // never destroyed: tensors may outlive module teardown
  }();
  return alloc;
}

void CachingCpuAllocator::Delete(void* p) {
  if (p) TheAllocator()->Release(p);
}

}  // namespace

void InstallCpuAllocator() { c10::SetCPUAllocator(TheAllocator(), /*priority=*/10); }
CacheStats CpuCacheStats() { return TheAllocator()->Stats(); }
size_t TrimCpuCache() { return TheAllocator()->Trim(); }
void ResetCpuPeak() { TheAllocator()->ResetPeak(); }

}  // namespace iclit
