// A fixed pool of worker threads for data-parallel loops. Workers spin briefly before sleeping,
// so the many short ops of a decode step do not pay a wake-up each. The caller takes chunks
// too and waits only for chunks to finish, never for a worker to check in, so a descheduled
// worker on a busy machine does not stall a loop it took no part in. With 1 thread (or in a
// single-threaded wasm build) loops run inline on the caller.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace hearth {

class ThreadPool {
 public:
  // n_threads counts the caller: n_threads = 1 means no workers. 0 = hardware concurrency.
  explicit ThreadPool(int n_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return int(workers_.size()) + 1; }

  // Calls fn(begin, end) over [0, n) split into chunks of at least `grain`; returns when all
  // chunks are done. fn runs on the caller too. Not reentrant.
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

  static int default_threads();

 private:
  struct Job {
    const std::function<void(int64_t, int64_t)>* fn = nullptr;
    int64_t n = 0, chunk = 1;
    std::atomic<int64_t> next{0}, done{0};
  };
  static void run_chunks(Job& job);
  void worker_loop();

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<Job> job_;  // guarded by mu_
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> sleepers_{0};
  bool stop_ = false;  // guarded by mu_
};

}  // namespace hearth
