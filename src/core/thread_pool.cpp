// ThreadPool: each loop is a Job published under a generation number; workers copy the job's
// shared_ptr, claim chunks with an atomic counter, and report finished elements.
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

void ThreadPool::run_chunks(Job& job) {
  while (true) {
    const int64_t b = job.next.fetch_add(job.chunk, std::memory_order_relaxed);
    if (b >= job.n) break;
    const int64_t e = std::min(job.n, b + job.chunk);
    (*job.fn)(b, e);
    job.done.fetch_add(e - b, std::memory_order_acq_rel);
  }
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  while (true) {
    // Spin a little: decode steps issue many small loops back to back.
    auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(100);
    while (generation_.load(std::memory_order_acquire) == seen && std::chrono::steady_clock::now() < spin_until) {
      std::this_thread::yield();
    }
    std::shared_ptr<Job> job;
    {
      sleepers_.fetch_add(1);
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return generation_.load() != seen; });
      sleepers_.fetch_sub(1);
      seen = generation_.load();
      if (stop_) return;
      job = job_;
    }
    if (job) run_chunks(*job);
  }
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int threads = size();
  if (threads == 1 || n <= grain) {
    fn(0, n);
    return;
  }
  auto job = std::make_shared<Job>();
  job->fn = &fn;
  job->n = n;
  job->chunk = std::max<int64_t>(grain, (n + threads * 4 - 1) / (threads * 4));  // ~4 chunks per thread
  {
    std::lock_guard<std::mutex> lk(mu_);
    job_ = job;
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  if (sleepers_.load() > 0) cv_.notify_all();
  run_chunks(*job);
  while (job->done.load(std::memory_order_acquire) < n) std::this_thread::yield();
}

}  // namespace hearth
