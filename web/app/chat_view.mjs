// The chat tab: the conversation with streaming replies, stop, regenerate, new chat, the system
// prompt and sampling settings, live tokens/s and context use. Replies come from
// model.chat(), which reuses the KV cache for what consecutive turns share.
import { $, clearError, el, guarded, notice, showError } from './ui.mjs';

const NUMBERS = ['temperature', 'topK', 'topP', 'minP', 'repetitionPenalty', 'presencePenalty', 'frequencyPenalty',
  'maxTokens'];

export function setupChat(app) {
  const list = $('#messages');
  const messages = [];  // the conversation: { role, content, tag? }
  let lastUsage = null;

  function settings() {
    const o = {};
    for (const id of NUMBERS) {
      const v = Number($(`#${id}`).value);
      if (!Number.isFinite(v)) throw new Error(`Settings: ${$(`#${id}`).parentElement.textContent.trim()} is not a number`);
      o[id] = v;
    }
    o.topK = Math.round(o.topK);
    o.maxTokens = Math.max(1, Math.round(o.maxTokens));
    const seed = $('#seed').value.trim();
    o.seed = seed === '' ? Math.floor(Math.random() * 2 ** 31) : Math.round(Number(seed));
    if ($('#template').value) o.template = $('#template').value;
    if (app.adapter) {
      o.adapter = app.adapter;
      o.adapterScale = app.adapterScale;
    }
    return o;
  }

  function bubble(m) {
    const b = el(`div.msg.${m.role}`, {}, el('span.text', {}, m.content));
    if (m.tag) b.append(el('span.tag', {}, m.tag));
    return b;
  }

  function render() {
    list.replaceChildren(...messages.map(bubble));
    if (!messages.length) list.append(el('p.empty', { id: 'chat-empty' }, emptyText()));
    updateButtons();
  }

  function emptyText() {
    if (!app.model) return 'Load a model on the Models tab, then write below.';
    if (!app.model.info.has_tokenizer) {
      return `${app.meta.name} has no tokenizer.json: chat needs one to turn text into tokens.`;
    }
    return `Chatting with ${app.meta.name}. Write below.`;
  }

  function updateButtons() {
    const ready = !!app.model?.info.has_tokenizer;
    const busy = !!app.reply;
    $('#send').disabled = !ready || busy;
    $('#stop').disabled = !busy;
    $('#regenerate').disabled = !ready || busy || !messages.some((m) => m.role === 'user');
  }

  function contextText(used) {
    return app.model ? `context ${used} / ${app.model.info.max_ctx}` : '';
  }

  // Streams the assistant's reply to the conversation so far.
  async function reply() {
    const opts = settings();
    const abort = new AbortController();
    const system = $('#system').value.trim();
    const convo = [...(system ? [{ role: 'system', content: system }] : []),
      ...messages.map(({ role, content }) => ({ role, content }))];
    const m = { role: 'assistant', content: '' };
    const b = bubble(m);
    b.classList.add('streaming');
    list.append(b);
    $('#chat-empty')?.remove();
    const text = b.querySelector('.text');
    let resolveDone;
    app.reply = { abort, done: new Promise((r) => { resolveDone = r; }) };
    app.emit('busy');
    updateButtons();
    const t0 = performance.now();
    let tokens = 0;
    const base = lastUsage?.total_tokens ?? 0;
    try {
      const stream = app.model.chat(convo, { ...opts, signal: abort.signal });
      for await (const chunk of stream) {
        const d = chunk.choices[0].delta.content;
        if (!d) continue;
        tokens++;
        m.content += d;
        text.textContent = m.content;
        const s = (performance.now() - t0) / 1e3;
        $('#chat-stats').textContent = `${(tokens / s).toFixed(1)} tok/s · ${contextText(base + tokens)}`;
        b.scrollIntoView({ block: 'nearest' });
      }
      const r = await stream.result;
      lastUsage = r.usage;
      m.content = r.choices[0].message.content;
      const why = { abort: 'stopped', length: `max tokens (${opts.maxTokens})` }[r.choices[0].finish_reason];
      m.tag = [opts.adapter ? `adapter ${opts.adapter} ×${opts.adapterScale}` : '', why ?? ''].filter(Boolean).join(' · ');
      messages.push(m);
      const t = r.timings;
      $('#chat-stats').textContent = `${t.decode_tokens_per_s.toFixed(1)} tok/s · prefill ${t.prefill_tokens} `
        + `(${r.usage.prompt_tokens_details.cached_tokens} cached) · ${contextText(r.usage.total_tokens)}`;
      $('#chat-stats').dataset.cached = r.usage.prompt_tokens_details.cached_tokens;
      $('#chat-stats').dataset.prefill = t.prefill_tokens;
    } catch (e) {
      if (m.content) messages.push({ ...m, tag: 'interrupted' });
      showError(e.message ?? String(e));
    } finally {
      app.reply = null;
      resolveDone();
      app.emit('busy');
      render();
    }
  }

  $('#composer').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const content = $('#prompt').value;
    if (!content.trim() || !app.model || app.reply) return;
    clearError();
    notice('');
    messages.push({ role: 'user', content });
    $('#prompt').value = '';
    render();
    guarded(reply);
  });
  $('#prompt').addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      $('#composer').requestSubmit();
    }
  });
  $('#stop').addEventListener('click', () => app.stopReply());
  $('#regenerate').addEventListener('click', () => {
    if (app.reply) return;
    while (messages.length && messages[messages.length - 1].role === 'assistant') messages.pop();
    clearError();
    render();
    guarded(reply);
  });
  $('#new-chat').addEventListener('click', async () => {
    await app.stopReply();
    messages.length = 0;
    lastUsage = null;
    $('#chat-stats').textContent = '';
    render();
  });
  app.addEventListener('model', () => {
    lastUsage = null;
    $('#chat-stats').textContent = '';
    render();
  });
  render();
}
