// The adapters tab: LoRA adapter folders (PEFT or MLX-LM) dropped or opened become resident in
// the loaded model (model.loadAdapter); the radio list picks the one the next message uses and
// the slider its scale. Switching is a request option: the base model is never reloaded.
import { checkAdapterFolder, fromDrop, fromInput, userPaths } from './files.mjs';
import { $, clearError, el, guarded, notice, showError } from './ui.mjs';

// A name for the adapter that is unique among the resident ones.
function uniqueName(app, folder) {
  let name = folder || 'adapter';
  for (let i = 2; app.adapters.has(name); i++) name = `${folder}-${i}`;
  return name;
}

async function describe(files) {
  try {
    const c = JSON.parse(await files.find((f) => f.name === 'adapter_config.json').text());
    const r = c.r ?? c.lora_parameters?.rank;
    const alpha = c.lora_alpha ?? c.lora_parameters?.alpha;
    const targets = c.target_modules ?? c.lora_parameters?.keys;
    return [r ? `rank ${r}` : '', alpha ? `alpha ${alpha}` : '', Array.isArray(targets) ? targets.join(', ') : '']
      .filter(Boolean).join(' · ');
  } catch {
    return '';
  }
}

export function setupAdapters(app) {
  async function add(picked) {
    if (!picked.files.length) return;
    clearError();
    if (!app.model) {
      showError(`${picked.folder}: load a model first; an adapter is added to the loaded model`);
      return;
    }
    try {
      checkAdapterFolder(picked);
    } catch (e) {
      showError(e.message);
      return;
    }
    const name = uniqueName(app, picked.folder);
    const model = app.model;
    try {
      await model.loadAdapter(name, picked.files);
    } catch (e) {
      showError(`Could not add adapter ${picked.folder}: ${userPaths(e.message, picked.folder)}`);
      return;
    }
    if (app.model !== model) return;  // another model was loaded meanwhile
    app.adapters.set(name, { folder: picked.folder, about: await describe(picked.files) });
    app.adapter = name;
    notice(`Adapter ${name} is resident; the next message uses it.`);
    app.emit('adapters');
  }

  async function remove(name) {
    if (app.reply) await app.stopReply(`Stopped the reply to remove adapter ${name}.`);
    await app.model.unloadAdapter(name);
    app.adapters.delete(name);
    if (app.adapter === name) app.adapter = '';
    app.emit('adapters');
  }

  function render() {
    const rows = [...app.adapters].map(([name, a]) => el('label.adapter', {},
      el('input', { type: 'radio', name: 'adapter', value: name, checked: app.adapter === name }),
      el('span', {}, name), el('span.muted', {}, a.about),
      el('button.small', { type: 'button', onclick: (ev) => { ev.preventDefault(); guarded(() => remove(name)); } },
        'Remove')));
    $('#adapter-list').replaceChildren(el('legend', {}, 'Use for the next message'),
      el('label.adapter', {}, el('input', { type: 'radio', name: 'adapter', value: '', checked: !app.adapter }),
        'none (base model)'), ...rows);
  }

  $('#adapter-list').addEventListener('change', (ev) => {
    if (ev.target.name === 'adapter') app.adapter = ev.target.value;
  });
  $('#adapter-scale').addEventListener('input', (ev) => {
    app.adapterScale = Number(ev.target.value);
    $('#adapter-scale-value').textContent = app.adapterScale.toFixed(2);
  });
  $('#adapter-folder').addEventListener('change', (ev) => {
    guarded(() => add(fromInput(ev.target)));
    ev.target.value = '';
  });
  const drop = $('#adapter-drop');
  drop.addEventListener('dragover', (ev) => { ev.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    drop.classList.remove('over');
    guarded(async () => add(await fromDrop(ev.dataTransfer)));
  });
  app.addEventListener('adapters', render);
  render();
}
