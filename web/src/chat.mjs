// OpenAI-style chat completions over a loaded model, and the bookkeeping that lets consecutive
// requests share the KV cache.
//
//   const stream = model.chat([{ role: 'user', content: 'Hi' }], { maxTokens: 64 });
//   for await (const chunk of stream) out += chunk.choices[0].delta.content ?? '';
//   const { choices, usage } = await stream.result;   // a chat.completion object
//
// The conversation is rendered with the model's chat template (tokenizer_config.json), or a
// built-in format (`template: 'plain' | 'chatml'`; 'plain' where the model has none), encoded,
// and generated; the engine keeps the KV cache of what it fed and prefills only the tokens after
// the prefix a request shares with it (reusePrefix), so each turn of a conversation costs its
// new tokens. usage.prompt_tokens_details.cached_tokens says how many came from the cache.

// --- chat completions -------------------------------------------------------------------------

const ROLES = new Set(['system', 'user', 'assistant', 'tool']);
const SAMPLING = ['maxTokens', 'temperature', 'topK', 'topP', 'minP', 'repetitionPenalty', 'presencePenalty',
  'frequencyPenalty', 'seed', 'stopIds', 'deviceSteps', 'adapter', 'adapterScale', 'reusePrefix', 'responseFormat'];
let completionCount = 0;

function checkMessages(messages) {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new Error('hearth: chat: messages must be a non-empty array of { role, content }');
  }
  messages.forEach((m, i) => {
    if (!m || typeof m !== 'object' || !ROLES.has(m.role)) {
      throw new Error(`hearth: chat: messages[${i}].role must be one of system, user, assistant, tool`);
    }
    if (typeof m.content !== 'string') throw new Error(`hearth: chat: messages[${i}].content must be a string`);
  });
}

// Why generation ended, in OpenAI's words (plus 'abort' for a cancelled request).
function finishReason(r, opts, stops, text, eos) {
  if (r.aborted) return 'abort';
  const max = opts.maxTokens;
  if (r.ids.length < max) return 'stop';
  const last = r.ids[r.ids.length - 1];
  if ((opts.stopIds ?? eos).includes(last)) return 'stop';
  return stops.some((s) => text.includes(s)) ? 'stop' : 'length';
}

// A chat completion in progress: an async iterator of chat.completion.chunk objects whose
// `result` is the final chat.completion (choices, usage, and hearth's timings).
export class ChatStream {
  constructor(model, messages, opts) {
    this.id = `chatcmpl-${Date.now().toString(36)}-${++completionCount}`;
    this.created = Math.floor(Date.now() / 1000);
    this.items = [];
    this.waiters = [];
    this.done = false;
    this.error = null;
    this.generation = null;
    this.result = this.run(model, messages, opts);
    this.result.then(() => this.finish(), (e) => this.finish(e));
  }

  chunk(delta, finish = null) {
    return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.modelName,
      choices: [{ index: 0, delta, finish_reason: finish }] };
  }

  async run(model, messages, opts) {
    checkMessages(messages);
    this.modelName = opts.model ?? model.info.model_type;
    if (!model.info.has_tokenizer) {
      throw new Error('hearth: chat needs the model\'s tokenizer.json (this folder has none); '
        + 'generate() takes token ids instead');
    }
    const r = await model.renderChat(messages, { template: opts.template, enableThinking: opts.enableThinking });
    const ids = await model.encode(r.prompt);
    const stops = [...(opts.stop ?? []), ...r.stop];
    const gen = { stop: stops, signal: opts.signal };
    for (const k of SAMPLING) if (opts[k] !== undefined) gen[k] = opts[k];
    // The reply gets what is left of the context (finish_reason 'length' when it runs out).
    const room = model.info.max_ctx - ids.length + 1;  // the last generated token is never fed
    if (room < 1) {
      throw new Error(`hearth: chat: the conversation is ${ids.length} tokens and the context holds `
        + `${model.info.max_ctx}: start a new conversation or load the model with a larger maxCtx`);
    }
    gen.maxTokens = Math.min(gen.maxTokens ?? 128, room);
    this.generation = model.generate(ids, gen);
    this.push(this.chunk({ role: 'assistant', content: '' }));
    let text = '';
    for await (const t of this.generation) {
      if (!t.text) continue;
      text += t.text;
      this.push(this.chunk({ content: t.text }));
    }
    const g = await this.generation.result;
    const raw = stops.length ? await model.decode(g.ids) : text;
    const finish = finishReason(g, gen, stops, raw, model.info.eos_ids);
    this.push(this.chunk({}, finish));
    const s = g.stats;
    const promptTokens = ids.length;
    const cached = s.reused_tokens ?? 0;
    return {
      id: this.id, object: 'chat.completion', created: this.created, model: this.modelName,
      choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: finish }],
      usage: { prompt_tokens: promptTokens, completion_tokens: g.ids.length, total_tokens: promptTokens + g.ids.length,
        prompt_tokens_details: { cached_tokens: cached } },
      template: r.template,
      timings: { prefill_tokens: promptTokens - cached, prefill_seconds: s.prefill_seconds, decode_seconds: s.decode_seconds,
        decode_tokens_per_s: g.ids.length > 1 ? (g.ids.length - 1) / s.decode_seconds : 0 },
    };
  }

  push(item) {
    const w = this.waiters.shift();
    if (w) w.resolve({ value: item, done: false });
    else this.items.push(item);
  }

  finish(error = null) {
    this.done = true;
    this.error = error;
    for (const w of this.waiters.splice(0)) {
      if (error) w.reject(error);
      else w.resolve({ value: undefined, done: true });
    }
  }

  next() {
    if (this.items.length) return Promise.resolve({ value: this.items.shift(), done: false });
    if (this.done) return this.error ? Promise.reject(this.error) : Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  // Leaving a for-await loop early stops generation (the result still arrives, 'abort').
  async return() {
    this.stopped = true;
    await this.generation?.return();
    try { await this.result; } catch { /* reported to next() callers */ }
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator]() { return this; }
}

/**
 * model.chat(messages, opts): messages [{ role: 'system'|'user'|'assistant'|'tool', content }];
 * opts: the sampling options of generate() (maxTokens, temperature, topK, topP, minP,
 * repetitionPenalty, presencePenalty, frequencyPenalty, seed, stopIds, deviceSteps, reusePrefix,
 * responseFormat), stop (strings), adapter / adapterScale, signal (an AbortSignal: generation stops, finish_reason
 * 'abort'), template ('plain' | 'chatml'; unset: the model's own, 'plain' without one),
 * enableThinking (Qwen3-style templates).
 */
export function chat(model, messages, opts = {}) {
  return new ChatStream(model, messages, opts);
}
