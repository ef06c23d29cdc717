// The train tab: a corpus of dropped text files; train a new model of a preset shape from scratch
// (pycoder-6m's tokenizer, trainModel) or fine-tune a LoRA adapter on the loaded model
// (model.finetune); step records ({ step, loss, grad_norm, lr, tokens_per_s }) stream into a
// live loss plot. Afterwards: chat with the new model, save it to the gallery (OPFS) or download
// it as a Hugging Face folder; a fine-tuned adapter is resident at once (Adapters tab).
import { trainModel } from '../src/hearth.mjs';
import { saveModel } from './gallery_store.mjs';
import { LossPlot } from './loss_plot.mjs';
import { $, clearError, guarded, notice } from './ui.mjs';

// Shapes of the Qwen2 family over pycoder-6m's 8192-token vocabulary.
const PRESETS = {
  tiny: { hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 192 },
  small: { hidden_size: 128, num_hidden_layers: 4, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 384 },
  medium: { hidden_size: 256, num_hidden_layers: 6, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 768 },
};
const TOKENIZER_FROM = new URL('../../models/pycoder-6m/', import.meta.url);

// A model folder to train from scratch: the preset's config.json and pycoder-6m's tokenizer.
async function scratchFolder(preset) {
  const get = async (name) => {
    const r = await fetch(new URL(name, TOKENIZER_FROM));
    if (!r.ok) throw new Error(`${new URL(name, TOKENIZER_FROM).pathname}: HTTP ${r.status}`);
    return r;
  };
  const base = await (await get('config.json')).json();
  const config = { ...base, ...PRESETS[preset], max_window_layers: PRESETS[preset].num_hidden_layers, torch_dtype: 'float32' };
  return {
    'config.json': new Blob([JSON.stringify(config, null, 2)]),
    'tokenizer.json': await (await get('tokenizer.json')).blob(),
    'tokenizer_config.json': await (await get('tokenizer_config.json')).blob(),
  };
}

function download(files, folder) {
  for (const [name, bytes] of Object.entries(files)) {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([bytes]));
    a.download = `${folder}-${name}`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  }
}

export function setupTrain(app) {
  const plot = new LossPlot($('#loss-plot'));
  new ResizeObserver(() => plot.draw()).observe($('#loss-plot'));  // sized once its tab shows
  let corpus = [];     // File objects
  let running = null;  // AbortController of the run under way
  let last = null;     // { run, kind, name, about } of the last finished run
  let count = 0;
  $('#train-status').textContent = 'Train a small model from scratch on your text, or fine-tune a LoRA adapter on '
    + 'the loaded model; on WebGPU, or the wasm CPU backend (the Models tab\'s backend).';

  const update = () => {
    const finetune = $('#train-mode').value === 'finetune';
    $('#train-start').disabled = !!running || !corpus.length || (finetune && !app.model);
    $('#train-stop').disabled = !running;
    $('#train-preset').disabled = finetune;
    $('#train-rank').disabled = !finetune;
    $('#train-targets').disabled = !finetune;
  };
  $('#corpus-files').addEventListener('change', (ev) => {
    corpus = [...ev.target.files];
    const bytes = corpus.reduce((n, f) => n + f.size, 0);
    $('#corpus-summary').textContent = `${corpus.length} files, ${(bytes / 1e3).toFixed(0)} kB: `
      + corpus.map((f) => f.name).slice(0, 5).join(', ') + (corpus.length > 5 ? ', …' : '');
    update();
  });
  $('#train-mode').addEventListener('change', update);
  app.addEventListener('model', update);

  async function run() {
    const finetune = $('#train-mode').value === 'finetune';
    const opts = { data: corpus, steps: Number($('#train-steps').value), lr: Number($('#train-lr').value),
      seq: Number($('#train-seq').value), batch: Number($('#train-batch').value), signal: running.signal };
    await last?.run.dispose?.().catch(() => {});
    last = null;
    $('#train-result').hidden = true;
    let r;
    let name;
    if (finetune) {
      await app.stopReply('Stopped the reply to fine-tune.');
      name = `finetuned-${++count}`;
      r = app.model.finetune({ ...opts, rank: Number($('#train-rank').value), targets: $('#train-targets').value,
        adapterName: name });
    } else {
      name = `trained-${$('#train-preset').value}-${++count}`;
      r = trainModel(await scratchFolder($('#train-preset').value), { ...opts, init: true, backend: $('#backend').value });
    }
    plot.clear();
    app.training = { name, records: [] };  // for the console and the page's tests
    let rec = null;
    for await (rec of r) {
      plot.add(rec);
      app.training.records.push(rec);
      $('#train-stats').textContent = `step ${rec.step} · loss ${rec.loss.toFixed(3)} · ${Math.round(rec.tokens_per_s)} tok/s`;
      $('#train-stats').dataset.step = rec.step;
    }
    const summary = await r.result;
    const corpusName = corpus.length === 1 ? corpus[0].name : `${corpus.length} files`;
    const about = `Trained in this page: ${summary.stepsDone} steps on ${corpusName}`
      + `${rec ? `, final loss ${rec.loss.toFixed(3)}` : ''}${summary.aborted ? ' (stopped early)' : ''}.`;
    last = { run: r, kind: finetune ? 'finetune' : 'train', name, about };
    $('#train-result').hidden = false;
    $('#train-chat').hidden = finetune;
    $('#train-save').hidden = finetune;
    if (finetune && summary.stepsDone) {
      app.adapters.set(name, { folder: name, about: `${about} Rank ${$('#train-rank').value}.` });
      app.adapter = name;
      app.emit('adapters');
      notice(`Adapter ${name} is resident; the next message uses it.`);
    } else {
      notice(`${name}: ${about}`);
    }
  }

  $('#train-start').addEventListener('click', async () => {
    clearError();
    running = new AbortController();
    update();
    await guarded(run, (e) => `Training failed: ${e.message}`);
    running = null;
    update();
  });
  $('#train-stop').addEventListener('click', () => running?.abort());
  $('#train-chat').addEventListener('click', () => guarded(async () => {
    const files = await last.run.save();
    const source = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, new Blob([v])]));
    await app.load({ name: last.name, folder: last.name, source, cache: false });
  }));
  $('#train-save').addEventListener('click', () => guarded(async () => {
    await saveModel(last.name, await last.run.save(), last.about);
    await app.refreshSaved();
    notice(`${last.name} is in the gallery (Models tab).`);
  }, (e) => `Saving to the gallery failed: ${e.message}`));
  $('#train-download').addEventListener('click', () => guarded(async () => {
    download(await last.run.save(), last.name);
  }));
  update();
}
