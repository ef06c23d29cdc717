// hearth serve -m DIR [--port 8080] [--host 127.0.0.1] [--adapter NAME=DIR,...] [--queue N]
//   [--context-overflow error|drop-oldest] [model options: --dtype --max-ctx --threads ...]
// An OpenAI-compatible HTTP endpoint on cpp-httplib: POST /v1/chat/completions and
// /v1/completions (streaming as server-sent events, response_format json_object / json_schema /
// grammar), GET /v1/models, GET /health. The `model` of a request picks the base model (its
// folder's name, or "") or a LoRA adapter by the name given with --adapter.
// One engine, one worker thread: requests run one at a time in arrival order, each reusing the
// KV cache of the prefix it shares with the previous one; up to --queue requests wait (default
// 8), more get 429. A streamed request whose client goes away is cancelled at the next token.
// Listens on 127.0.0.1 unless --host says otherwise; --port 0 picks a free port. The address is
// printed on stdout as "listening on http://HOST:PORT".
#include <cstdio>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/common.h"

namespace hearth::cli {
const char kServeUsage[] =
    "usage: hearth serve -m DIR [options]\n"
    "An OpenAI-compatible HTTP server: POST /v1/chat/completions and /v1/completions (streaming as\n"
    "server-sent events; response_format json_object, json_schema or grammar), GET /v1/models and\n"
    "GET /health. Requests run one at a time in arrival order, each reusing the KV cache of the\n"
    "prefix it shares with the one before. Prints \"listening on http://HOST:PORT\" when ready.\n"
    "  --port N                 port (default 8080; 0 picks a free one)\n"
    "  --host ADDR              address to listen on (default 127.0.0.1)\n"
    "  --adapter NAME=DIR,...   LoRA adapters a request picks by its \"model\" field\n"
    "  --queue N                requests that may wait (default 8); more get 429\n"
    "  --context-overflow error|drop-oldest  a conversation longer than --max-ctx: 400, or drop the\n"
    "                           oldest turns\n"
    "  -m, --model DIR, --dtype, --no-quant-search, --max-ctx, --max-prefill, --threads, --kv-dtype,\n"
    "  --cache-dir, --chat-template   as for generate (hearth generate --help)\n"
    "Sampling is each request's (temperature, top_p, ...), defaulting to generation_config.json.\n";
}  // namespace hearth::cli

#if defined(__EMSCRIPTEN__) || !defined(HEARTH_HAVE_HTTPLIB)

namespace hearth::cli {
int cmd_serve(int argc, char** argv) {
  return fail("serve is not available in this build (it needs cpp-httplib: apt-get install libcpp-httplib-dev, native builds only)");
}
}  // namespace hearth::cli

#else

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "cli/common.h"
#include "cli/serve_api.h"
#include "engine/text_stream.h"

namespace hearth::cli {

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

int64_t unix_now() {
  return int64_t(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

// A request between the HTTP thread that took it and the worker that runs it.
struct Job {
  ApiRequest api;
  std::string adapter;
  ApiResult result;
  // Filled by the worker: stream events (or the whole body), then done.
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> events;
  bool done = false;
  int status = 200;
  std::string body;
  std::atomic<bool> cancelled{false};
  void push(std::string e) {
    std::lock_guard<std::mutex> l(mu);
    events.push_back(std::move(e));
    cv.notify_all();
  }
  void finish(int st, std::string b) {
    std::lock_guard<std::mutex> l(mu);
    status = st;
    body = std::move(b);
    done = true;
    cv.notify_all();
  }
};

class Server {
 public:
  Server(Session& s, ChatTemplate tmpl, bool has_template, ContextOverflow overflow, size_t queue_cap,
         std::string base_name, std::vector<std::string> adapters)
      : s_(s), tmpl_(std::move(tmpl)), has_template_(has_template), overflow_(overflow), cap_(queue_cap),
        base_(std::move(base_name)), adapters_(std::move(adapters)) {}

  void start() { worker_ = std::thread([this] { work(); }); }
  void stop() {
    {
      std::lock_guard<std::mutex> l(mu_);
      quit_ = true;
      for (auto& j : pending_) j->finish(503, api_error_body("the server is shutting down", "server_error"));
      pending_.clear();
    }
    cv_.notify_all();
    if (worker_.joinable()) worker_.join();
  }

  void routes(httplib::Server& http) {
    http.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(api_models_body(base_, adapters_, started_), "application/json");
    });
    http.Get("/health", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("{\"status\":\"ok\"}", "application/json");
    });
    http.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) { handle(req, res, true); });
    http.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) { handle(req, res, false); });
  }

 private:
  Session& s_;
  ChatTemplate tmpl_;
  bool has_template_;
  ContextOverflow overflow_;
  size_t cap_;
  std::string base_;
  std::vector<std::string> adapters_;
  int64_t started_ = unix_now();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> pending_;
  bool busy_ = false, quit_ = false;
  std::thread worker_;
  int64_t next_id_ = 0;

  static void send_error(httplib::Response& res, int status, const std::string& msg, const std::string& type,
                         const std::string& param = "") {
    res.status = status;
    res.set_content(api_error_body(msg, type, param), "application/json");
  }

  void handle(const httplib::Request& req, httplib::Response& res, bool chat) {
    std::string param;
    auto api = parse_api_request(req.body, chat, s_.engine->default_sampling(), &param);
    if (!api.ok()) return send_error(res, 400, api.message(), "invalid_request_error", param);
    auto job = std::make_shared<Job>();
    job->api = std::move(*api);
    if (!job->api.model.empty() && job->api.model != base_) {
      if (std::find(adapters_.begin(), adapters_.end(), job->api.model) == adapters_.end())
        return send_error(res, 404, "model \"" + job->api.model + "\" does not exist: GET /v1/models lists them",
                          "invalid_request_error", "model");
      job->adapter = job->api.model;
    }
    if (chat && !has_template_) return send_error(res, 400, s_.dir + " has no chat template: use /v1/completions", "invalid_request_error");
    if (job->api.format) {
      auto g = compile_response_format(*job->api.format, "response_format");
      if (!g.ok()) return send_error(res, 400, g.message(), "invalid_request_error", "response_format");
    }
    job->result.model = job->api.model.empty() ? base_ : job->api.model;
    job->result.created = unix_now();
    {
      std::lock_guard<std::mutex> l(mu_);
      if (pending_.size() >= cap_ && (busy_ || !pending_.empty())) {
        return send_error(res, 429, "the server is busy (" + std::to_string(pending_.size()) + " requests waiting): retry later",
                          "rate_limit_error");
      }
      job->result.id = std::string(chat ? "chatcmpl-" : "cmpl-") + std::to_string(++next_id_);
      pending_.push_back(job);
    }
    cv_.notify_all();
    if (!job->api.stream) {
      std::unique_lock<std::mutex> l(job->mu);
      job->cv.wait(l, [&] { return job->done; });
      res.status = job->status;
      res.set_content(job->body, "application/json");
      return;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [job](size_t, httplib::DataSink& sink) {
          std::unique_lock<std::mutex> l(job->mu);
          job->cv.wait(l, [&] { return job->done || !job->events.empty(); });
          while (!job->events.empty()) {
            std::string e = std::move(job->events.front());
            job->events.pop_front();
            l.unlock();
            if (!sink.write(e.data(), e.size())) {
              job->cancelled = true;
              return false;
            }
            l.lock();
          }
          if (job->done) {
            if (job->status != 200) {
              std::string e = "data: " + job->body + "\n\n";
              sink.write(e.data(), e.size());
            }
            static const std::string kDone = "data: [DONE]\n\n";
            sink.write(kDone.data(), kDone.size());
            sink.done();
          }
          return true;
        },
        [job](bool success) {
          if (!success) job->cancelled = true;
        });
  }

  void work() {
    while (true) {
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [&] { return quit_ || !pending_.empty(); });
        if (quit_) return;
        job = pending_.front();
        pending_.pop_front();
        busy_ = true;
      }
      if (job->cancelled) {
        std::fprintf(stderr, "hearth serve: %s cancelled before it started\n", job->result.id.c_str());
        done(*job, 499, api_error_body("cancelled", "invalid_request_error"));
        continue;
      }
      run(*job);
    }
  }

  Result<std::vector<int32_t>> prompt_ids(const ApiRequest& a, int64_t max_ctx) {
    if (a.chat) {
      return render_chat_to_fit(tmpl_, s_.tokenizer, a.messages, ChatOptions(), max_ctx, a.max_tokens.value_or(1),
                                overflow_);
    }
    if (!a.prompt_ids.empty()) return a.prompt_ids;
    std::vector<int32_t> ids = s_.tokenizer.encode(a.prompt);
    if (ids.empty()) return err("prompt: the text encodes to no tokens");
    return ids;
  }

  // Ends a job; the worker counts as free from here on, so the client's next request, sent as
  // soon as this one's answer arrives, finds the queue as it should.
  void done(Job& job, int status, std::string body) {
    {
      std::lock_guard<std::mutex> l(mu_);
      busy_ = false;
    }
    job.finish(status, std::move(body));
  }

  void run(Job& job) {
    const ApiRequest& a = job.api;
    Engine& e = *s_.engine;
    const int64_t max_ctx = e.model().max_ctx();
    GenerateRequest req;
    req.sampling = a.sampling;
    req.adapter = job.adapter;
    if (a.ignore_eos) req.stop_ids = {-1};  // an id that never comes
    auto fail_job = [&](const std::string& msg) {
      std::fprintf(stderr, "hearth serve: %s failed: %s\n", job.result.id.c_str(), msg.c_str());
      done(job, 400, api_error_body(msg, "invalid_request_error"));
    };
    auto ids = prompt_ids(a, max_ctx);
    if (!ids.ok()) return fail_job(ids.message());
    req.prompt = std::move(*ids);
    req.max_new_tokens = a.max_tokens.value_or(std::max<int64_t>(1, max_ctx - int64_t(req.prompt.size())));
    if (a.format) {
      auto g = compile_response_format(*a.format, "response_format");
      if (!g.ok()) return fail_job(g.message());
      if (!s_.vocab) s_.vocab = make_token_trie(s_.tokenizer, e.model().config().vocab_size);
      req.grammar = std::make_shared<GrammarMatcher>(std::move(*g), s_.vocab);
    }
    TextStream text(s_.tokenizer, req.stop_ids.empty() ? e.default_stop_ids() : req.stop_ids, a.stop);
    ApiResult& r = job.result;
    if (a.stream && a.chat) job.push(api_stream_event(r, true, "", true, ""));
    auto out = e.generate(req, [&](int32_t id) {
      std::string piece = text.push(id);
      r.text += piece;
      if (a.stream && !piece.empty()) job.push(api_stream_event(r, a.chat, piece, false, ""));
      return !job.cancelled && !text.done();
    });
    if (!out.ok()) return fail_job(out.message());
    std::string tail = text.finish();
    r.text += tail;
    if (a.stream && !tail.empty()) job.push(api_stream_event(r, a.chat, tail, false, ""));
    r.prompt_tokens = out->n_prompt;
    r.completion_tokens = int64_t(out->ids.size());
    const bool ended = out->stopped_by_token || out->stopped_by_grammar || text.done();
    r.finish_reason = ended ? "stop" : "length";
    const double tps = out->decode_seconds > 0 ? double(out->ids.size()) / out->decode_seconds : 0.0;
    if (job.cancelled) {
      std::fprintf(stderr, "hearth serve: %s cancelled by the client after %lld tokens\n", r.id.c_str(),
                   (long long)r.completion_tokens);
      done(job, 499, api_error_body("cancelled", "invalid_request_error"));
      return;
    }
    std::fprintf(stderr, "hearth serve: %s %lld prompt tokens (%lld reused) -> %lld tokens, %s, %.1f tok/s\n",
                 r.id.c_str(), (long long)r.prompt_tokens, (long long)out->n_reused, (long long)r.completion_tokens,
                 r.finish_reason.c_str(), tps);
    if (a.stream) job.push(api_stream_event(r, a.chat, "", false, r.finish_reason));
    done(job, 200, a.stream ? "" : api_response_body(r, a.chat));
  }
};

// "name=dir,name2=dir2" -> pairs.
Result<std::vector<std::pair<std::string, std::string>>> parse_adapters(const std::string& spec) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t i = 0;
  while (i <= spec.size()) {
    size_t j = spec.find(',', i);
    if (j == std::string::npos) j = spec.size();
    const std::string item = spec.substr(i, j - i);
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
      return err("--adapter: expected NAME=DIR[,NAME=DIR...], got \"", item, "\"");
    out.push_back({item.substr(0, eq), item.substr(eq + 1)});
    i = j + 1;
  }
  return out;
}

}  // namespace

int cmd_serve(int argc, char** argv) {
  auto opts = generate_value_options();
  for (const char* o : {"--port", "--host", "--queue", "--context-overflow"}) opts.insert(o);
  auto args = Args::parse(argc, argv, opts, {"--no-quant-search"}, {{"-m", "--model"}});
  if (!args.ok()) return fail(args.message());
  int64_t port = 0, queue = 0;
  HEARTH_ASSIGN_OR_FAIL(port, args->integer("--port", 8080, 0, 65535));
  HEARTH_ASSIGN_OR_FAIL(queue, args->integer("--queue", 8, 0, 1 << 16));
  ContextOverflow overflow;
  HEARTH_ASSIGN_OR_FAIL(overflow, parse_context_overflow(args->str("--context-overflow").value_or("error")));
  const std::string host = args->str("--host").value_or("127.0.0.1");
  std::vector<std::pair<std::string, std::string>> adapter_dirs;
  if (auto spec = args->str("--adapter")) HEARTH_ASSIGN_OR_FAIL(adapter_dirs, parse_adapters(*spec));
  auto setup = open_session(*args);
  if (!setup.ok()) return fail(setup.message());
  Session& s = **setup;
  if (!s.tokenizer.loaded()) return fail(s.dir + ": no tokenizer, serve needs one");
  std::vector<std::string> names;
  for (const auto& [name, dir] : adapter_dirs) {
    Status st = s.engine->load_adapter(name, dir);
    if (!st.ok()) return fail(st.message());
    names.push_back(name);
  }
  bool plain = false;
  auto tmpl = load_chat_template(s, *args, /*plain_fallback=*/false, &plain);
  std::string base = s.dir;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  base = base.substr(base.find_last_of('/') + 1);
  Server server(s, tmpl.ok() ? *tmpl : ChatTemplate(), tmpl.ok(), overflow, size_t(queue), base, names);
  httplib::Server http;
  http.set_payload_max_length(size_t(16) << 20);
  server.routes(http);
  int bound = int(port);
  if (port == 0) bound = http.bind_to_any_port(host);
  else if (!http.bind_to_port(host, int(port))) bound = -1;
  if (bound <= 0) return fail("cannot listen on " + host + ":" + std::to_string(port) + " (in use, or not an address of this machine)");
  std::printf("listening on http://%s:%d\n", host.c_str(), bound);
  std::fflush(stdout);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  server.start();
  std::thread watcher([&] {
    while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    http.stop();
  });
  http.listen_after_bind();
  g_stop = true;
  watcher.join();
  server.stop();
  std::fprintf(stderr, "hearth serve: stopped\n");
  return 0;
}

}  // namespace hearth::cli

#endif
