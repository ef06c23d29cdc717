// Folders the user brings: read from an <input webkitdirectory> or a drag-and-drop, and checked
// before the engine sees them, so a wrong folder gets an error naming the folder and the file
// that is missing rather than one about the engine's internal paths.

// { folder, files } from a directory <input>: the folder is the first part of the files' paths.
export function fromInput(input) {
  const files = [...input.files];
  const first = files[0]?.webkitRelativePath ?? '';
  const folder = first.includes('/') ? first.split('/')[0] : (files.length ? 'selected files' : '');
  // Only the folder's own files (a model folder is flat; shards sit beside the index).
  const top = files.filter((f) => !f.webkitRelativePath || f.webkitRelativePath.split('/').length <= 2);
  return { folder, files: top };
}

function readEntries(dirEntry) {
  const reader = dirEntry.createReader();
  const all = [];
  return new Promise((resolve, reject) => {
    const more = () => reader.readEntries((batch) => {
      if (!batch.length) resolve(all);
      else {
        all.push(...batch);
        more();
      }
    }, reject);
    more();
  });
}

const fileOf = (entry) => new Promise((resolve, reject) => entry.file(resolve, reject));

// { folder, files } from a drop: one dropped folder (its files), or loose files.
export async function fromDrop(dataTransfer) {
  const entries = [...dataTransfer.items].map((i) => i.webkitGetAsEntry?.()).filter(Boolean);
  const dir = entries.find((e) => e.isDirectory);
  if (dir) {
    const files = await Promise.all((await readEntries(dir)).filter((e) => e.isFile).map(fileOf));
    return { folder: dir.name, files };
  }
  return { folder: 'dropped files', files: [...dataTransfer.files] };
}

const names = (files) => new Set(files.map((f) => f.name));

// Throws an Error naming `folder` and what is missing unless it is a model folder.
export async function checkModelFolder({ folder, files }) {
  const have = names(files);
  const what = 'a model folder holds config.json, model.safetensors (or its shards with model.safetensors.index.json) '
    + 'and tokenizer.json';
  if (!files.length) throw new Error(`${folder || 'the folder'}: no files were given (${what})`);
  if (!have.has('config.json')) {
    const hint = have.has('adapter_config.json') ? ' — this is a LoRA adapter: add it on the Adapters tab' : '';
    throw new Error(`${folder}: config.json is missing (${what})${hint}`);
  }
  if (have.has('model.safetensors.index.json')) {
    const index = files.find((f) => f.name === 'model.safetensors.index.json');
    let shards;
    try {
      shards = new Set(Object.values(JSON.parse(await index.text()).weight_map ?? {}));
    } catch (e) {
      throw new Error(`${folder}/model.safetensors.index.json: not valid JSON (${e.message})`);
    }
    for (const s of shards) if (!have.has(s)) throw new Error(`${folder}: ${s} is missing (listed in model.safetensors.index.json)`);
  } else if (!have.has('model.safetensors')) {
    throw new Error(`${folder}: model.safetensors is missing (${what})`);
  }
  return { hasTokenizer: have.has('tokenizer.json') };
}

// Throws an Error naming `folder` and what is missing unless it is a PEFT or MLX-LM adapter.
export function checkAdapterFolder({ folder, files }) {
  const have = names(files);
  const what = 'a LoRA adapter folder holds adapter_config.json and adapter_model.safetensors (PEFT) '
    + 'or adapters.safetensors (MLX-LM)';
  if (!files.length) throw new Error(`${folder || 'the folder'}: no files were given (${what})`);
  if (!have.has('adapter_config.json')) {
    const hint = have.has('config.json') ? ' — this is a model: load it on the Models tab' : '';
    throw new Error(`${folder}: adapter_config.json is missing (${what})${hint}`);
  }
  if (!have.has('adapter_model.safetensors') && !have.has('adapters.safetensors')) {
    throw new Error(`${folder}: adapter_model.safetensors is missing (${what})`);
  }
}

// Engine messages name the engine's copy of a folder (/models/m3/config.json): name the user's.
export function userPaths(message, folder) {
  return folder ? String(message).replace(/\/models\/m\d+/g, folder) : String(message);
}

// Parameters of a Llama-family checkpoint from its config.json (embeddings, layers, norms,
// q/k/v biases for Qwen2, q/k norms for Qwen3, an untied LM head).
export function parameterCount(c) {
  const d = c.hidden_size;
  const heads = c.num_attention_heads;
  const hd = c.head_dim ?? d / heads;
  const q = heads * hd;
  const kv = (c.num_key_value_heads ?? heads) * hd;
  const ff = c.intermediate_size;
  const qwen2 = c.model_type === 'qwen2';
  const qwen3 = c.model_type === 'qwen3';
  const layer = d * q + 2 * d * kv + q * d + 3 * d * ff + 2 * d + (qwen2 ? q + 2 * kv : 0) + (qwen3 ? 2 * hd : 0);
  return c.vocab_size * d * (c.tie_word_embeddings ? 1 : 2) + c.num_hidden_layers * layer + d;
}
