// Types of the hearth ES module API (src/hearth.mjs).

export type DType = 'f32' | 'f16' | 'int8' | 'int4';

export interface LoadOptions {
  /** Weight precision on load (default 'f32'). int4 keeps embeddings / LM head in int8. */
  dtype?: DType;
  /** The KV cache's precision (default 'f32'; 'f16' and 'int8' on the wasm CPU backend). */
  kvDtype?: 'f32' | 'f16' | 'int8';
  /** KV cache length (default min(max_position_embeddings, 4096)). */
  maxCtx?: number;
  /** Largest batch of prompt tokens per forward pass (default 512). */
  maxPrefillT?: number;
  /** 'webgpu' (default; falls back to 'cpu' with a warning when WebGPU is missing) or 'cpu'. */
  backend?: 'webgpu' | 'cpu';
  /** false: use the WebGPU kernels that need no optional feature even when subgroups exist. */
  subgroups?: boolean;
  /** GPU time per kernel in stats().gpu.host.kernels (timestamp queries; each dispatch in a pass of
   *  its own), or with 'passes' the GPU's busy time in stats().gpu.host.gpuMs; set on the first load. */
  profileKernels?: boolean | 'passes';
  /** false: int4 without the per-group clipping search (about 4x faster load, slightly worse quality). */
  quantSearch?: boolean;
  /** WebGPU: the largest buffer weights are placed in (bytes; 0 or absent: the device's binding limit). */
  weightBufferBytes?: number;
  /** WebGPU: prefill products of 128+ tokens read quantized weights dequantized into f32 scratch (default true; same result). */
  prefillDequant?: boolean;
  /** A GPU object to use instead of navigator.gpu (Node: the npm package `webgpu`). */
  gpu?: unknown;
  /** URL or path of hearth_engine.cjs (its .wasm beside it). */
  wasmUrl?: string;
  /**
   * Run the engine in a dedicated module Worker (src/worker_host.mjs) behind the same API.
   * Default: true in a browser page, false in Node and inside workers.
   */
  worker?: boolean;
  /** URL of src/engine_worker.mjs when it is served elsewhere. */
  workerUrl?: string | URL;
  /** Load phases as they happen (src/progress.mjs). */
  onProgress?: (event: LoadProgressEvent) => void;
  /** Generate one token after loading so the first request does not wait for WebGPU pipelines. */
  warmUp?: boolean;
  /** Cancels the load: at once in a worker (AbortError), between phases in process. */
  signal?: AbortSignal;
  /**
   * Browsers: keep the engine's pack of the model (its converted, quantized weights) in the weight
   * cache (src/cache.mjs: OPFS, the Cache API or IndexedDB; an object picks { backend, name,
   * quotaBytes }) under a key from the source files' names, sizes and dates and the options that
   * change the pack; a later load of the same files takes the pack (info.cache says which).
   */
  cache?: boolean | { backend?: 'opfs' | 'cache' | 'idb'; name?: string; quotaBytes?: number };
  /** The label of the cache entry (default: the folder's name and the dtype). */
  cacheLabel?: string;
  /** Node: a folder of packs, the engine's own pack cache. */
  cacheDir?: string;
}

export interface LoadProgressEvent {
  /** download: bytes of the files read; read: matrices converted by the engine; compile: WebGPU pipelines. */
  phase: 'download' | 'cache' | 'read' | 'compile' | 'ready';
  done: number;
  total: number;
  unit: 'bytes' | 'matrices' | 'steps';
  /** The file being read (download). */
  file?: string;
  message: string;
}

export interface ModelInfo {
  backend: string;
  tier: 'subgroups' | 'none' | 'cpu';
  dtype: DType;
  model_type: string;
  vocab_size: number;
  hidden_size: number;
  n_layers: number;
  max_ctx: number;
  max_prefill_t: number;
  bytes: number;
  load_seconds: number;
  eos_ids: number[];
  has_tokenizer: boolean;
  /** With LoadOptions.cache: whether the weights came from the cache, the entry's key and size. */
  cache?: { hit: boolean; key: string; bytes: number; backend: string };
}

export interface GenerateOptions {
  maxTokens?: number;
  /** 0 = greedy. Unset sampling options take generation_config.json's values. */
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  repetitionPenalty?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  seed?: number;
  /** Stop strings (matched across token boundaries; the text stops before them). */
  stop?: string[];
  /** Stop token ids, replacing the model's eos ids. */
  stopIds?: number[];
  /** Continue after what the KV cache holds (multi-turn). */
  keepCache?: boolean;
  /**
   * Without keepCache: reuse the KV cache of the longest token prefix shared with what earlier
   * requests fed (default true); only the rest of the prompt is prefilled.
   */
  reusePrefix?: boolean;
  /** Stops generation after the current token; the stream ends and result.aborted is true. */
  signal?: AbortSignal;
  /**
   * WebGPU: tokens per GPU submission with the pick (argmax or sampling) on the GPU (default 8;
   * 0 = read the logits back every token and sample on the CPU).
   */
  deviceSteps?: number;
  /**
   * Structured output: the generated text is a JSON object, JSON valid under `schema` (JSON
   * Schema; keywords that cannot be enforced are an error), or a sentence of a GBNF grammar.
   */
  responseFormat?: { type: 'text' } | { type: 'json_object' } | { type: 'json_schema'; schema: object }
    | { type: 'grammar'; grammar: string };
  /** A LoRA adapter loaded with loadAdapter (unset: none), and a multiplier of its scale. */
  adapter?: string;
  adapterScale?: number;
}

export interface GenerationStats {
  prompt_tokens: number;
  /** Prompt tokens whose KV cache was reused from earlier requests (not prefilled). */
  reused_tokens: number;
  generated_tokens: number;
  prefill_seconds: number;
  decode_seconds: number;
}

export interface Token {
  /** The generated id (-1 for a final item that only carries held-back text). */
  id: number;
  /** The text this token completes ('' while a character is incomplete). */
  text: string;
}

export interface GenerationResult {
  ids: number[];
  stats: GenerationStats;
  /** The request's AbortSignal fired (or the loop was left early). */
  aborted: boolean;
}

export interface GenerationStream extends AsyncIterableIterator<Token> {
  readonly result: Promise<GenerationResult>;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
}

export interface ChatOptions extends Omit<GenerateOptions, 'keepCache'> {
  /** A built-in format instead of the model's own template (which is 'plain' when it has none). */
  template?: 'plain' | 'chatml';
  /** Passed to templates that read it (Qwen3). */
  enableThinking?: boolean;
  /** The `model` field of the returned objects (default: the model type). */
  model?: string;
}

export type FinishReason = 'stop' | 'length' | 'abort';

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: [{ index: 0; delta: { role?: 'assistant'; content?: string }; finish_reason: FinishReason | null }];
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: [{ index: 0; message: { role: 'assistant'; content: string }; finish_reason: FinishReason }];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number;
    prompt_tokens_details: { cached_tokens: number } };
  /** Where the template came from: 'tokenizer_config.json' or a built-in name. */
  template: string;
  timings: { prefill_tokens: number; prefill_seconds: number; decode_seconds: number; decode_tokens_per_s: number };
}

export interface ChatStream extends AsyncIterableIterator<ChatCompletionChunk> {
  readonly result: Promise<ChatCompletion>;
}

export class HearthModel {
  /** The in-process engine's handle (absent for a model in a worker). */
  readonly handle: number;
  /** true when the engine runs in a worker (stats() then gives the counters of the last reply). */
  readonly worker?: boolean;
  readonly info: ModelInfo;
  /** Why the requested backend was not used, when it was not. */
  readonly notes: string[];
  encode(text: string): Promise<number[]>;
  loadAdapter(name: string, source: ModelSource): Promise<void>;
  unloadAdapter(name: string): Promise<void>;
  decode(ids: number[], opts?: { skipSpecial?: boolean }): Promise<string>;
  generate(prompt: string | number[], opts?: GenerateOptions): GenerationStream;
  complete(prompt: string | number[], opts?: GenerateOptions): Promise<GenerationResult & { text: string }>;
  /**
   * OpenAI-style chat completion with the model's chat template; the KV cache of the previous
   * request is reused for the prefix the two share. The reply is cut to the room left in the
   * context (finish_reason 'length').
   */
  chat(messages: ChatMessage[], opts?: ChatOptions): ChatStream;
  /** The prompt text of a conversation, where its template came from, and its stop strings. */
  renderChat(messages: ChatMessage[], opts?: { template?: string; enableThinking?: boolean; addGenerationPrompt?: boolean }):
    Promise<{ prompt: string; template: string; stop: string[] }>;
  /**
   * Current counters (generation stats; GPU dispatches, submits, pipelines, and host time in ms
   * spent encoding command lists and waiting for read-backs).
   */
  stats(): ModelInfo & {
    last: GenerationStats;
    gpu: {
      dispatches: number; submits: number; pipelines: number;
      host?: { encodeMs: number; submitMs: number; waitMs: number; submits: number; gpuMs?: number; passes?: number;
        kernels?: Record<string, [number, number]> };
    } | null;
  };
  dispose(): Promise<void>;
  /** Pretrains every tensor of this model's folder on its backend (src/train.mjs). */
  train(opts: TrainOptions): TrainingRun;
  /** Trains LoRA pairs on this model as loaded (its base frozen); the adapter is added under
   *  opts.adapterName ('finetuned') when the run ends. */
  finetune(opts: FinetuneOptions): TrainingRun;
  /** The model of the last train(): a Hugging Face folder's files. */
  save(opts?: { dtype?: 'f32' | 'bf16' }): Promise<Record<string, Uint8Array>>;
  /** The adapter of the last finetune(): adapter_config.json and adapter_model.safetensors. */
  saveAdapter(): Promise<Record<string, Uint8Array>>;
}

/** Training options: `hearth train`'s flags, camelCased. Give one of data, text or tokens. */
export interface TrainOptions {
  /** Node: a path; or a .safetensors token file / text as File, Blob or bytes; or text Files. */
  data?: string | Blob | ArrayBuffer | Uint8Array | Iterable<Blob>;
  text?: string;
  /** Rows of seq + 1 token ids (inputs row[:-1], targets row[1:]). */
  tokens?: ArrayLike<number>[];
  steps?: number;
  batch?: number;
  seq?: number;
  accum?: number;
  lr?: number;
  minLr?: number;
  warmup?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  gradClip?: number;
  seed?: number;
  recompute?: boolean;
  /** Weights from the config (normal(0, 0.02), seeded) instead of the checkpoint. */
  init?: boolean;
  /** Ends the run after the step in progress. */
  signal?: AbortSignal;
  /** Node: a file for step 0's gradients (safetensors). */
  saveGradsStep0?: string;
}

export interface FinetuneOptions extends TrainOptions {
  rank?: number;
  alpha?: number;
  /** 'q_proj,k_proj,...', an array of names, or 'all-linear'. */
  targets?: string | string[];
  rslora?: boolean;
  /** An adapter to start from (PEFT or MLX-LM), as loadAdapter takes it. */
  adapterInit?: ModelSource;
  adapterName?: string;
}

export interface StepRecord {
  step: number;
  loss: number;
  /** The global gradient norm before clipping. */
  grad_norm: number;
  lr: number;
  tokens: number;
  tokens_per_s: number;
  ms: number;
}

export interface TrainingRun extends AsyncIterableIterator<StepRecord> {
  readonly result: Promise<{ steps: number; stepsDone: number; aborted: boolean; losses: number[] }>;
  stats(): Promise<{ kind: 'train' | 'finetune'; backend: string; steps: number; steps_done: number; batch: number;
    seq: number; accum: number; parameters: number; data: string;
    bytes: { weights: number; gradients: number; optimizer: number; activations: number } }>;
  save(opts?: { dtype?: 'f32' | 'bf16' }): Promise<Record<string, Uint8Array>>;
  /** Fine-tuning: the adapter as trained so far, under `name`, for generate({ adapter: name }). */
  useAdapter(name?: string): Promise<void>;
  dispose(): Promise<void>;
}

/** Pretrains the model folder `source` without loading it for inference (config.json alone with
 *  init: true); backend, threads, subgroups, gpu, wasmUrl and worker (in a browser page: a worker
 *  of its own, ended by the run's dispose()) as loadModel takes them. */
export function trainModel(source: ModelSource, opts: TrainOptions & Pick<LoadOptions, 'backend' | 'subgroups' |
  'gpu' | 'wasmUrl' | 'worker' | 'workerUrl'> & { threads?: number }): TrainingRun;

/**
 * A model folder: a path (Node; a folder of links such as a Hugging Face hub snapshot, a .gguf
 * file or a pack), a base URL, File/Blob objects, or a name -> bytes map.
 */
export type ModelSource = string | URL | Iterable<File> | Record<string, Blob | ArrayBuffer | Uint8Array>;

export function loadModel(source: ModelSource, opts?: LoadOptions): Promise<HearthModel>;
/** Releases the GPU device (lets Node exit). */
export function shutdown(): Promise<void>;
