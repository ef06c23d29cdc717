// The hearth app: shared state (the loaded model, the conversation, resident adapters, what is
// running) and the tab bar; each tab's behaviour lives in its own module.
import { setupAdapters } from './adapters_view.mjs';
import { setupChat } from './chat_view.mjs';
import { setupModels } from './models_view.mjs';
import { setupTrain } from './train_view.mjs';
import { $, clearError, notice } from './ui.mjs';

// Events: 'model' (loaded or cleared), 'busy' (a reply started or ended), 'adapters'.
class AppState extends EventTarget {
  constructor() {
    super();
    this.model = null;        // HearthModel or WorkerModel
    this.meta = null;         // { name, folder, config } of the loaded model
    this.reply = null;        // { abort: AbortController, done: Promise } while a reply streams
    this.adapters = new Map();  // name -> { folder, rank, alpha }
    this.adapter = '';        // the adapter for the next message ('' = none)
    this.adapterScale = 1;
  }

  emit(type) { this.dispatchEvent(new Event(type)); }

  setModel(model, meta) {
    this.model = model;
    this.meta = model ? meta : null;
    this.adapters.clear();
    this.adapter = '';
    this.emit('model');
    this.emit('adapters');
  }

  // Stops a streaming reply (if any) and waits for it to end; `why` is shown as a notice.
  async stopReply(why) {
    if (!this.reply) return;
    if (why) notice(why);
    this.reply.abort.abort();
    await this.reply.done.catch(() => {});
  }
}

export const app = new AppState();
window.hearthApp = app;  // for the console and the page's tests

function selectTab(name) {
  for (const b of document.querySelectorAll('nav [role=tab]')) b.setAttribute('aria-selected', String(b.dataset.tab === name));
  for (const s of document.querySelectorAll('main > .tab')) s.hidden = s.dataset.tab !== name;
}

for (const b of document.querySelectorAll('nav [role=tab]')) b.addEventListener('click', () => selectTab(b.dataset.tab));
$('#error-close').addEventListener('click', clearError);
app.addEventListener('model', () => {
  const m = app.model;
  $('#model-pill').textContent = m ? `${app.meta.name} · ${m.info.dtype} · ${m.info.backend}` : 'no model';
});
// Files dropped outside a drop zone must not navigate away from the app.
for (const type of ['dragover', 'drop']) window.addEventListener(type, (e) => e.preventDefault());

setupChat(app);
setupModels(app, selectTab);
setupAdapters(app);
setupTrain(app);
