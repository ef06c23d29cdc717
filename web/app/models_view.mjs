// The models tab: the gallery of bundled models, bring-your-own folders (open or drop), the
// load with its progress bar, the model card, and the weight cache's entries.
import { openWeightCache } from '../src/cache.mjs';
import { loadModel } from '../src/hearth.mjs';
import { checkModelFolder, fromDrop, fromInput, parameterCount, userPaths } from './files.mjs';
import { deleteModel, listModels, openModel } from './gallery_store.mjs';
import { $, clearError, el, fmtBytes, fmtCount, guarded, notice, showError } from './ui.mjs';

// Models served with the page (relative to this module: the repository's models/ folder).
const GALLERY = [{
  name: 'pycoder-6m',
  url: new URL('../../models/pycoder-6m/', import.meta.url).href,
  line: 'Qwen2 architecture, 6.8 M parameters, its own 8k-token BPE tokenizer; trained for 6,089 steps on '
    + 'Python source files. It continues code rather than answering questions.',
}];

// Where the load stands, as a bar: files 0-40 %, weights 40-92 %, GPU pipelines 92-100 %.
function showProgress(ev) {
  const span = { download: [0, 40], cache: [0, 40], read: [40, 92], compile: [92, 100], ready: [100, 100] }[ev.phase]
    ?? [0, 0];
  const f = ev.total > 0 ? Math.min(1, ev.done / ev.total) : 0;
  $('#progress-fill').style.width = `${span[0] + (span[1] - span[0]) * f}%`;
  let text = ev.message;
  if (ev.unit === 'bytes') text = `Reading ${ev.file ?? 'files'}: ${fmtBytes(ev.done)} of ${fmtBytes(ev.total)}`;
  else if (ev.unit === 'matrices') text = `Loading weights: ${ev.done} of ${ev.total} matrices`;
  else if (ev.phase === 'compile') text = 'Compiling GPU pipelines…';
  $('#progress-text').textContent = text;
  $('#progress').dataset.phase = ev.phase;
}

async function readConfig(source) {
  try {
    if (typeof source === 'string') return await (await fetch(new URL('config.json', source))).json();
    const config = Array.isArray(source) ? source.find((f) => f.name === 'config.json') : source['config.json'];
    return JSON.parse(await config.text());
  } catch {
    return null;
  }
}

function renderCard(model, meta) {
  const card = $('#model-card');
  if (!model) {
    card.hidden = true;
    return;
  }
  const i = model.info;
  const c = meta.config ?? {};
  const rows = [
    ['Architecture', `${c.architectures?.[0] ?? i.model_type} (${i.model_type})`],
    ['Parameters', c.hidden_size ? fmtCount(parameterCount(c)) : '?'],
    ['Shape', `${i.n_layers} layers, hidden ${i.hidden_size}, ${c.num_attention_heads ?? '?'} heads`
      + ` (${c.num_key_value_heads ?? '?'} KV), vocabulary ${i.vocab_size}`],
    ['Precision', i.dtype],
    ['Backend', i.backend],
    ['Tier', i.tier],
    ['Memory', fmtBytes(i.bytes)],
    ['Context', `${i.max_ctx} tokens`],
    ['Loaded in', `${i.load_seconds.toFixed(2)} s${i.cache?.hit ? ' from the weight cache' : ''}`],
    ['Tokenizer', i.has_tokenizer ? 'tokenizer.json' : 'none (chat is not possible)'],
    ...(model.notes.length ? [['Notes', model.notes.join('; ')]] : []),
  ];
  card.replaceChildren(el('h3', {}, meta.name), el('dl', {}, rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)])));
  card.hidden = false;
}

export function setupModels(app, selectTab) {
  let loading = null;  // AbortController of the load under way

  // source: a URL, File objects, or { name: Blob } (cache: false for files made in the page).
  async function load({ name, folder, source, cache = true }) {
    clearError();
    notice('');
    loading?.abort();
    await app.stopReply(`Stopped the reply to load ${name}.`);
    const abort = new AbortController();
    loading = abort;
    const old = app.model;
    app.setModel(null);
    renderCard(null);
    await old?.dispose().catch(() => {});
    showProgress({ phase: 'start', done: 0, total: 0, unit: 'steps', message: `Starting ${name}…` });
    $('#progress').hidden = false;
    try {
      const config = await readConfig(source);
      const model = await loadModel(source, {
        dtype: $('#dtype').value, backend: $('#backend').value, maxCtx: Number($('#maxCtx').value),
        maxPrefillT: Number($('#maxPrefillT').value),
        onProgress: (ev) => { if (loading === abort) showProgress(ev); }, signal: abort.signal, warmUp: true,
        cache, cacheLabel: `${name} ${$('#dtype').value}`,
      });
      if (loading !== abort) {  // replaced by a later load
        await model.dispose();
        return;
      }
      app.setModel(model, { name, folder, config });
      renderCard(model, app.meta);
      refreshCache?.();
      notice(`${name} is ready${model.notes.length ? ` (${model.notes.join('; ')})` : ''}.`);
      selectTab('chat');
    } catch (e) {
      if (e.name === 'AbortError') {
        if (loading === abort) notice(`Loading ${name} was cancelled.`);
      } else {
        showError(`Could not load ${name}: ${userPaths(e.message, folder)}`);
      }
    } finally {
      if (loading === abort) {
        loading = null;
        $('#progress').hidden = true;
      }
    }
  }

  async function loadFolder(picked) {
    if (!picked.files.length) return;
    try {
      await checkModelFolder(picked);
    } catch (e) {
      showError(e.message);
      return;
    }
    await load({ name: picked.folder, folder: picked.folder, source: picked.files });
  }

  for (const g of GALLERY) {
    $('#gallery').append(el('div.card', { dataset: { model: g.name } }, el('h3', {}, g.name), el('p', {}, g.line),
      el('button.primary', { onclick: () => load({ name: g.name, folder: g.name, source: g.url }) }, 'Load')));
  }
  $('#model-folder').addEventListener('change', (ev) => {
    loadFolder(fromInput(ev.target));
    ev.target.value = '';
  });
  const drop = $('#model-drop');
  drop.addEventListener('dragover', (ev) => { ev.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    drop.classList.remove('over');
    guarded(async () => loadFolder(await fromDrop(ev.dataTransfer)));
  });
  $('#load-cancel').addEventListener('click', () => loading?.abort());
  app.load = load;
  app.refreshSaved = () => guarded(() => renderSaved(load), (e) => `Saved models: ${e.message}`);
  app.refreshSaved();
  setupCacheList().then((refresh) => { refreshCache = refresh; });
}

let refreshCache = null;

// Models trained in this page and saved to the gallery (gallery_store.mjs).
async function renderSaved(load) {
  const saved = await listModels();
  $('#saved-models').replaceChildren(...saved.map((m) => el('div.card', { dataset: { saved: m.name } },
    el('h3', {}, m.name), el('p', {}, `${m.about} ${fmtBytes(m.bytes)}.`),
    el('button.primary', { onclick: () => guarded(async () => {
      const files = await openModel(m.key);
      if (!files) throw new Error(`${m.name}: the saved model is damaged and was removed from the gallery`);
      await load({ name: m.name, folder: m.name, source: files, cache: false });
    }) }, 'Load'), ' ',
    el('button', { onclick: () => guarded(async () => { await deleteModel(m.key); await renderSaved(load); }) }, 'Delete'))));
}

// The weight cache's entries with their sizes, each deletable. Resolves to a refresh function.
async function setupCacheList() {
  let cache;
  try {
    cache = await openWeightCache();
  } catch (e) {
    $('#cache-note').textContent = `No weight cache: ${e.message}`;
    return null;
  }
  const refresh = async () => {
    const entries = await cache.list();
    const total = entries.reduce((n, e) => n + e.bytes, 0);
    $('#cache-note').textContent = `Stored in ${{ opfs: 'the origin private file system', cache: 'the Cache API',
      idb: 'IndexedDB' }[cache.backend] ?? cache.backend}: ${entries.length} models, ${fmtBytes(total)}. `
      + 'A model\'s first load stores its converted weights here; later loads of the same files take them.';
    $('#cache-list').replaceChildren(...entries.map((e) => el('li', {},
      el('span', {}, e.meta.label ?? e.key.slice(0, 12)), el('span.muted', {}, fmtBytes(e.bytes)),
      el('button.small', { onclick: () => guarded(async () => { await cache.delete(e.key); await refresh(); }) },
        'Delete'))));
  };
  await guarded(refresh, (e) => `Weight cache: ${e.message}`);
  return () => guarded(refresh, (e) => `Weight cache: ${e.message}`);
}
