// The train tab: a corpus of dropped text files, a preset shape, and a run whose step records
// ({ step, loss, grad_norm, lr, tokens_per_s }) stream into a live loss plot. Training comes
// from the engine's training API (src/train.mjs: model.finetune for a LoRA adapter on the
// loaded model, train() for a model from scratch, each an async iterator of step records);
// a build without it says so and leaves the form disabled.
import { LossPlot } from './loss_plot.mjs';
import { $, guarded, notice } from './ui.mjs';

async function trainingApi() {
  try {
    const api = await import('../src/train.mjs');
    return typeof api.train === 'function' || typeof api.finetune === 'function' ? api : null;
  } catch {
    return null;
  }
}

export async function setupTrain(app) {
  const plot = new LossPlot($('#loss-plot'));
  new ResizeObserver(() => plot.draw()).observe($('#loss-plot'));  // sized once its tab shows
  let corpus = [];   // File objects
  let running = null;  // AbortController
  const api = await trainingApi();
  const status = $('#train-status');
  if (!api) {
    status.textContent = 'Training is not available in this build: its engine has no training entry points '
      + '(src/train.mjs). Chat, adapters and the gallery work without it.';
    for (const e of document.querySelectorAll('#train-form input, #train-form select, #train-form button')) e.disabled = true;
    $('#train-form').classList.add('unavailable');
    return;
  }
  status.textContent = 'Fine-tune a LoRA adapter on the loaded model, or train a small model from scratch, in this tab.';

  const update = () => {
    $('#train-start').disabled = !!running || !corpus.length || ($('#train-mode').value === 'finetune' && !app.model);
    $('#train-stop').disabled = !running;
  };
  $('#corpus-files').addEventListener('change', (ev) => {
    corpus = [...ev.target.files];
    const bytes = corpus.reduce((n, f) => n + f.size, 0);
    $('#corpus-summary').textContent = `${corpus.length} files, ${(bytes / 1e3).toFixed(0)} kB`;
    update();
  });
  $('#train-mode').addEventListener('change', update);
  app.addEventListener('model', update);

  async function run() {
    const texts = await Promise.all(corpus.map((f) => f.text()));
    const opts = { steps: Number($('#train-steps').value), lr: Number($('#train-lr').value),
      preset: $('#train-preset').value, signal: running.signal };
    const finetune = $('#train-mode').value === 'finetune';
    const records = finetune ? api.finetune(app.model, texts, opts) : api.train(texts, opts);
    plot.clear();
    for await (const r of records) {
      plot.add(r);
      $('#train-stats').textContent = `step ${r.step} · loss ${r.loss.toFixed(4)} · ${Math.round(r.tokens_per_s)} tok/s`;
    }
    notice(finetune ? 'Fine-tuning finished: the adapter is on the Adapters tab.' : 'Training finished.');
  }

  $('#train-start').addEventListener('click', async () => {
    running = new AbortController();
    update();
    await guarded(run, (e) => `Training failed: ${e.message}`);
    running = null;
    update();
  });
  $('#train-stop').addEventListener('click', () => running?.abort());
  update();
}
