// Records GPU work for one submit. A dispatch names its kernel, specialization and operands;
// the recorder maps operands to bindings (one per distinct buffer, so in-place ops work
// without aliasing writable bindings), finds or compiles the pipeline (cached by the composed
// source's key), finds or defines the bind group (cached by layout + buffers), appends the
// parameter words to the params arena at an aligned dynamic offset, and appends the dispatch
// to a command list. flush() hands the whole list to JS in one call (one command encoder, one
// compute pass between copies); read() appends a copy to a staging buffer and waits for it.
#pragma once
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "ops/webgpu/bridge.h"
#include "ops/webgpu/shaders.h"

namespace hearth::webgpu {

struct Operand {
  const char* name = "";  // the kernel's buf_<name>
  uint32_t buffer = 0;  // bridge buffer id; 0: not used by this dispatch (a private stand-in)
  bool write = false;
  bool weights = false;
  bool vec4 = false;  // through array<vec4<f32>> (no other view of the buffer when written)
  bool words = false;  // through array<u32> (raw words: checkpoint data, weights being written)
};

struct DispatchDesc {
  ShaderSpec shader;  // shader.subgroups is filled in by the recorder
  FixedVec<Operand, 24> operands;
  std::vector<uint32_t> params;  // the kernel's Params struct (kernel_params.h) as words
  uint32_t x = 1, y = 1, z = 1;
  // Sets the parameters from a kernel_params.h struct.
  template <class P>
  void set_params(const P& p) {
    params.resize(sizeof(P) / 4);
    std::memcpy(params.data(), &p, sizeof(P));
  }
};

class Recorder {
 public:
  Recorder(const DeviceInfo& info, bool subgroups);
  ~Recorder();
  Status init();

  bool subgroups() const { return subgroups_; }
  // Records a dispatch. Failures (a shader that does not compile) are kept in status().
  void dispatch(const DispatchDesc& d);
  // Submits what was recorded (no-op when empty).
  void flush();
  // Submits what was recorded plus a copy of `bytes` at `offset` of `buffer`, and waits.
  Status read(uint32_t buffer, uint64_t offset, void* dst, uint64_t bytes);
  // Submits what was recorded plus a copy of `bytes` at `offset` of `buffer`, without waiting;
  // returns a ticket for read_finish (0 on failure, kept in status()).
  uint32_t read_start(uint32_t buffer, uint64_t offset, uint64_t bytes);
  Status read_finish(uint32_t ticket, void* dst, uint64_t bytes);
  // Drops cached bind groups that use `buffer` (call before destroying it, after flush()).
  void forget_buffer(uint32_t buffer);
  // Splits n workgroups over x and y within the per-dimension limit.
  void grid(uint64_t n, uint32_t* x, uint32_t* y) const;

  const Status& status() const { return status_; }
  void fail(const Error& e);
  size_t pipelines() const { return pipelines_.size(); }
  uint64_t dispatches() const { return n_dispatches_; }
  uint64_t submits() const { return n_submits_; }

 private:
  uint32_t pipeline_for(uint64_t key, const ShaderSpec& spec, const std::vector<Binding>& bindings,
                        const std::string& layout);
  uint32_t bind_group_for(uint32_t pipeline, uint64_t layout_key, const uint32_t* bufs, size_t n, uint32_t window);

  DeviceInfo info_;
  bool subgroups_;
  Status status_;
  uint32_t params_buffer_ = 0;
  static constexpr uint32_t kParamsCapacity = 1u << 20;
  std::vector<uint32_t> cmds_;
  std::vector<uint8_t> params_;  // this submit's parameter words
  std::unordered_map<uint64_t, uint32_t> pipelines_;    // source key -> pipeline
  std::unordered_map<uint64_t, uint32_t> bind_groups_;  // layout + window + buffers key -> id
  std::map<uint32_t, std::vector<uint32_t>> bind_group_buffers_;  // id -> buffers it binds
  std::map<uint32_t, uint64_t> bind_group_keys_;                  // id -> its key
  uint64_t n_dispatches_ = 0, n_submits_ = 0;
};

}  // namespace hearth::webgpu
