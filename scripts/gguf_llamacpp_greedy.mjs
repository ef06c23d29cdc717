// Greedy ids from llama.cpp itself (npm node-llama-cpp's prebuilt CPU libraries) for a GGUF file:
//   node scripts/gguf_llamacpp_greedy.mjs FILE.gguf 1,2,3 N
// prints N greedy ids after the prompt ids, on one line. node-llama-cpp is not a dependency of
// hearth; scripts/gguf_llamacpp_check.sh says how to install it.
import {getLlama} from "node-llama-cpp";

const [model, idsArg, nArg] = process.argv.slice(2);
const llama = await getLlama({gpu: false, build: "never", logLevel: "error"});
const m = await llama.loadModel({modelPath: model});
// KV cache f32 and flash attention off, as for the fixtures' llama.cpp figures.
const ctx = await m.createContext({contextSize: 512, flashAttention: false, threads: 2,
                                   experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32"});
const seq = ctx.getSequence();
const n = Number(nArg || 16);
const out = [];
for await (const tok of seq.evaluate(idsArg.split(",").map(Number), {temperature: 0})) {
  out.push(tok);
  if (out.length >= n) break;
}
console.log(out.join(" "));
process.exit(0);
