// ThreadPool: a generation counter publishes each loop; workers spin, then sleep on a condvar.
#include "core/thread_pool.h"

#include <algorithm>
#include <chrono>

namespace hearth {

int ThreadPool::default_threads() {
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
  return 1;
#else
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : int(n);
#endif
}

ThreadPool::ThreadPool(int n_threads) {
  if (n_threads <= 0) n_threads = default_threads();
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
  n_threads = 1;
#endif
  for (int i = 1; i < n_threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
    generation_.fetch_add(1);
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_chunks() {
  while (true) {
    int64_t b = next_.fetch_add(chunk_);
    if (b >= n_) break;
    (*fn_)(b, std::min(n_, b + chunk_));
  }
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  while (true) {
    // Spin for a short while: decode steps issue many small loops back to back.
    auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
    uint64_t g = generation_.load(std::memory_order_acquire);
    while (g == seen && std::chrono::steady_clock::now() < spin_until) {
      std::this_thread::yield();
      g = generation_.load(std::memory_order_acquire);
    }
    if (g == seen) {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return generation_.load() != seen; });
      g = generation_.load();
    }
    seen = g;
    if (stop_) return;
    run_chunks();
    active_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  int threads = size();
  if (threads == 1 || n <= grain) {
    fn(0, n);
    return;
  }
  // About 4 chunks per thread for balance, never smaller than grain.
  int64_t chunk = std::max<int64_t>(grain, (n + threads * 4 - 1) / (threads * 4));
  fn_ = &fn;
  n_ = n;
  chunk_ = chunk;
  next_.store(0);
  active_.store(int(workers_.size()));
  {
    std::lock_guard<std::mutex> lk(mu_);
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  cv_.notify_all();
  run_chunks();
  while (active_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
  fn_ = nullptr;
}

}  // namespace hearth
