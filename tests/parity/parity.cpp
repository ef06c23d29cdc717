// The harness's context and group table (see parity.h).
#include "parity/parity.h"

#include "random_data.h"

namespace hearth::parity {

// cases_ops.cpp, cases_sample.cpp, cases_plan.cpp
void matmul_cases(Ctx& c);
void embed_cases(Ctx& c);
void rmsnorm_cases(Ctx& c);
void rope_cases(Ctx& c);
void attention_cases(Ctx& c);
void elementwise_cases(Ctx& c);
void argmax_cases(Ctx& c);
void sample_cases(Ctx& c);
void product_stage_cases(Ctx& c);
void attention_step_cases(Ctx& c);
void upload_group_cases(Ctx& c);
void quantize_cases(Ctx& c);  // cases_quantize.cpp

void Ctx::expect(bool ok, const std::string& what) {
  ++checks;
  if (!ok) {
    ++failures;
    std::printf("  FAIL [%s] %s\n", label.c_str(), what.c_str());
  }
}

void Ctx::expect_close(const std::vector<float>& got, const std::vector<float>& want, float tol,
                       const std::string& what) {
  const float e = test::rel_err(got, want);
  expect(got.size() == want.size() && e <= tol, what + ": rel err " + std::to_string(e) + " > " + std::to_string(tol));
}

void Ctx::expect_dispatches(uint64_t d0, uint64_t n, const std::string& what) {
  if (!counts_dispatches()) return;
  const uint64_t got = dispatches() - d0;
  expect(got == n, what + ": " + std::to_string(got) + " dispatches, want " + std::to_string(n));
}

Buf Ctx::put(const std::vector<float>& v) {
  Buf b = be->alloc(int64_t(v.size()));
  be->write(b, v);
  return b;
}

std::vector<float> Ctx::get(Buf b, size_t n) {
  std::vector<float> v(n);
  be->read(b, v);
  return v;
}

Ctx Ctx::on(Backend* other) const {
  Ctx c;
  c.be = other;
  c.label = label + (other == chunked ? " chunked" : "");
  return c;
}

namespace {
struct Group {
  const char* name;
  void (*run)(Ctx&);
};
const Group kGroups[] = {
    {"matmul", matmul_cases},       {"embed", embed_cases},     {"rmsnorm", rmsnorm_cases},
    {"rope", rope_cases},           {"attention", attention_cases}, {"elementwise", elementwise_cases},
    {"argmax", argmax_cases},       {"sample", sample_cases},   {"products", product_stage_cases},
    {"attention_step", attention_step_cases}, {"upload", upload_group_cases}, {"quantize", quantize_cases},
};
}  // namespace

const std::vector<std::string>& groups() {
  static const std::vector<std::string> g = [] {
    std::vector<std::string> v;
    for (const Group& x : kGroups) v.push_back(x.name);
    return v;
  }();
  return g;
}

bool run_group(const std::string& group, Ctx& c) {
  for (const Group& g : kGroups) {
    if (group != g.name) continue;
    g.run(c);
    for (Backend* b : {c.be, c.chunked}) {
      if (b && !b->status().ok()) c.expect(false, "backend error: " + b->status().message());
    }
    return true;
  }
  return false;
}

}  // namespace hearth::parity
