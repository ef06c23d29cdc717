// hearth convert -m SRC -o OUT [--type f32|f16|bf16|q8_0|q4_0] [--dtype auto|f32|f16|bf16]
// hearth convert -m ADAPTER_DIR --base MODEL -o OUT.gguf
// A Hugging Face folder SRC becomes the GGUF file OUT (--type, default f16); a GGUF file SRC
// becomes the Hugging Face folder OUT (--dtype for model.safetensors, default auto); a LoRA
// adapter folder (PEFT or MLX-LM) becomes a llama.cpp GGUF adapter for the model MODEL.
#include <chrono>
#include <cstdio>

#include "cli/args.h"
#include "cli/commands.h"
#include "formats/gguf.h"
#include "model/gguf_convert.h"
#include "model/gguf_lora.h"
#include "model/tensor_source.h"

namespace hearth::cli {

const char kConvertUsage[] =
    "usage: hearth convert -m DIR -o FILE.gguf [--type f32|f16|bf16|q8_0|q4_0]\n"
    "       hearth convert -m FILE.gguf -o DIR [--dtype auto|f32|f16|bf16]\n"
    "       hearth convert -m ADAPTER_DIR --base MODEL -o ADAPTER.gguf\n"
    "Converts between Hugging Face folders and GGUF files: a model folder becomes one .gguf file, a\n"
    ".gguf file becomes a folder (config.json, model.safetensors, tokenizer files), and a LoRA adapter\n"
    "folder (PEFT or MLX-LM) becomes a llama.cpp GGUF adapter for the model MODEL.\n"
    "  -m, --model PATH         what to convert: a model folder, a .gguf file, or an adapter folder\n"
    "  -o, --out PATH           the .gguf file or folder to write\n"
    "  --type T                 folder -> GGUF: tensor type of the matrices (f32, f16, bf16, q8_0,\n"
    "                           q4_0; default f16)\n"
    "  --dtype D                GGUF -> folder: dtype of model.safetensors (auto keeps f32/f16/bf16\n"
    "                           tensors as they are; default auto)\n"
    "  --base MODEL             convert an adapter: the model (folder or .gguf) it was trained on\n";

int cmd_convert(int argc, char** argv) {
  auto args = Args::parse(argc, argv, {"--model", "--out", "--type", "--dtype", "--base"}, {}, {{"-m", "--model"}, {"-o", "--out"}});
  if (!args.ok()) return fail(args.message());
  auto src = args->required("--model");
  if (!src.ok()) return fail(src.message());
  auto out = args->required("--out");
  if (!out.ok()) return fail(out.message());
  const auto t0 = std::chrono::steady_clock::now();
  Status st;
  if (auto base = args->str("--base")) {
    auto ckpt = open_checkpoint(*base);
    if (!ckpt.ok()) return fail(ckpt.message());
    auto adapter = load_lora_adapter(*src, ckpt->config);
    if (!adapter.ok()) return fail(adapter.message());
    st = write_gguf_lora(*adapter, ckpt->config, *out);
  } else if (is_gguf_file(*src)) {
    if (args->has("--type")) return fail("--type is for writing GGUF; a GGUF source is written as a folder (use --dtype)");
    st = convert_gguf_to_hf(*src, *out, args->str("--dtype").value_or("auto"));
  } else {
    if (args->has("--dtype")) return fail("--dtype is for writing a folder; a folder is written as GGUF (use --type)");
    const std::string name = args->str("--type").value_or("f16");
    auto type = parse_ggml_type(name);
    if (!type) return fail("--type: \"" + name + "\" is not one of f32, f16, bf16, q8_0, q4_0");
    st = convert_hf_to_gguf(*src, *out, *type);
  }
  if (!st.ok()) return fail(st.message());
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("wrote %s (%.2f s)\n", out->c_str(), s);
  return 0;
}

}  // namespace hearth::cli
