// Types of the hearth ES module API (src/hearth.mjs).

export type DType = 'f32' | 'f16' | 'int8' | 'int4';

export interface LoadOptions {
  /** Weight precision on load (default 'f32'). int4 keeps embeddings / LM head in int8. */
  dtype?: DType;
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
  /** A GPU object to use instead of navigator.gpu (Node: the npm package `webgpu`). */
  gpu?: unknown;
  /** URL or path of hearth_engine.cjs (its .wasm beside it). */
  wasmUrl?: string;
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
   * WebGPU: tokens per GPU submission with the pick (argmax or sampling) on the GPU (default 8;
   * 0 = read the logits back every token and sample on the CPU).
   */
  deviceSteps?: number;
  /** A LoRA adapter loaded with loadAdapter (unset: none), and a multiplier of its scale. */
  adapter?: string;
  adapterScale?: number;
}

export interface GenerationStats {
  prompt_tokens: number;
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

export interface GenerationStream extends AsyncIterableIterator<Token> {
  readonly result: Promise<{ ids: number[]; stats: GenerationStats }>;
}

export class HearthModel {
  readonly handle: number;
  readonly info: ModelInfo;
  /** Why the requested backend was not used, when it was not. */
  readonly notes: string[];
  encode(text: string): Promise<number[]>;
  loadAdapter(name: string, source: ModelSource): Promise<void>;
  unloadAdapter(name: string): Promise<void>;
  decode(ids: number[], opts?: { skipSpecial?: boolean }): Promise<string>;
  generate(prompt: string | number[], opts?: GenerateOptions): GenerationStream;
  complete(prompt: string | number[], opts?: GenerateOptions):
    Promise<{ ids: number[]; text: string; stats: GenerationStats }>;
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
}

/**
 * A model folder: a path (Node; a folder of links such as a Hugging Face hub snapshot, or a .gguf
 * file), a base URL, File/Blob objects, or a name -> bytes map.
 */
export type ModelSource = string | URL | Iterable<File> | Record<string, Blob | ArrayBuffer | Uint8Array>;

export function loadModel(source: ModelSource, opts?: LoadOptions): Promise<HearthModel>;
/** Releases the GPU device (lets Node exit). */
export function shutdown(): Promise<void>;
