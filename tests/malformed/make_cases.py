#!/usr/bin/env python3
"""Writes the malformed-input corpus: broken checkpoint folders, tokenizers, adapters, chat
templates, windows files and bad option sets, each derived by code from the fixtures (nothing
here is a hand-edited binary), plus manifest.json listing for every case the hearth command
line and what must come of it:

  {"case": name, "args": [...], "status": 2, "expect": "text the message must contain"}

Paths in "args" are relative to the output folder (run the commands from there), so the same
manifest can drive the native CLI or the JS package's CLI. "status" 2 means a one-line error
("hearth: ..." on stderr); 0 means accepted, with "expect" then a warning on stderr.

  make_cases.py OUT_DIR FIXTURES_DIR BUNDLED_MODEL_DIR
"""
import json
import math
import os
import shutil
import struct
import sys

import gguf_file

OUT, FIX, BUNDLED = (os.path.abspath(a) for a in sys.argv[1:4])
cases = []


# ---- safetensors, read and written here ----
def read_st(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", None)
    tensors = []
    for name, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        b, end = e["data_offsets"]
        tensors.append({"name": name, "dtype": e["dtype"], "shape": list(e["shape"]), "data": bytearray(data[b:end])})
    return meta, tensors


def st_bytes(tensors, meta=None, header_edit=None):
    header, data = {}, b""
    if meta is not None:
        header["__metadata__"] = meta
    for t in tensors:
        header[t["name"]] = {"dtype": t["dtype"], "shape": t["shape"], "data_offsets": [len(data), len(data) + len(t["data"])]}
        data += bytes(t["data"])
    if header_edit:
        header_edit(header)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + data


def find(tensors, name):
    return next(t for t in tensors if t["name"] == name)


def bf16(x):
    return struct.pack("<I", struct.unpack("<I", struct.pack("<f", x))[0])[2:]


# ---- case folders ----
def folder(case):
    d = os.path.join(OUT, case)
    os.makedirs(d, exist_ok=True)
    return d


def link(src, dst):
    if os.path.lexists(dst):
        os.remove(dst)
    os.symlink(src, dst)


def tiny_model(case, config=None, weights=None, extra=None):
    """A qwen2-tiny folder: its config (or `config`), its weights (or `weights` bytes)."""
    d = folder(case)
    cfg = json.load(open(os.path.join(FIX, "qwen2-tiny", "config.json")))
    if config is not None:
        cfg = config(cfg)
    with open(os.path.join(d, "config.json"), "w") as f:
        f.write(cfg if isinstance(cfg, str) else json.dumps(cfg, indent=2))
    if weights is None:
        link(os.path.join(FIX, "qwen2-tiny", "model.safetensors"), os.path.join(d, "model.safetensors"))
    else:
        with open(os.path.join(d, "model.safetensors"), "wb") as f:
            f.write(weights)
    for name, content in (extra or {}).items():
        with open(os.path.join(d, name), "w" if isinstance(content, str) else "wb") as f:
            f.write(content)
    return d


def bundled_model(case, files):
    """The bundled pycoder-6m folder with some files replaced ({name: text or bytes})."""
    d = folder(case)
    for name in os.listdir(BUNDLED):
        if name not in files:
            link(os.path.join(BUNDLED, name), os.path.join(d, name))
    for name, content in files.items():
        with open(os.path.join(d, name), "w" if isinstance(content, str) else "wb") as f:
            f.write(content)
    return d


def add(case, args, expect, status=2):
    cases.append({"case": case, "args": args, "status": status, "expect": expect})


GEN = ["generate", "-m"]
IDS = ["--ids", "1,2,3", "-n", "2"]
PROMPT = ["--prompt", "def f():", "-n", "2"]
TINY_META, TINY = read_st(os.path.join(FIX, "qwen2-tiny", "model.safetensors"))


def tiny_with(edit, header_edit=None):
    ts = [dict(t, data=bytearray(t["data"]), shape=list(t["shape"])) for t in TINY]
    edit(ts)
    return st_bytes(ts, TINY_META, header_edit)


# ---- config.json ----
def config_cases():
    def setk(**kv):
        return lambda c: dict(c, **kv)
    bad = {
        "config_head_dim_2p31": (setk(head_dim=2 ** 31), 'config.json: key "head_dim" is 2147483648'),
        "config_head_dim_2p40": (setk(head_dim=2 ** 40), 'config.json: key "head_dim" is 1099511627776'),
        "config_hidden_2p62": (setk(hidden_size=2 ** 62), 'config.json: key "hidden_size" is 4611686018427387904'),
        "config_layers_1e9": (setk(num_hidden_layers=10 ** 9), 'config.json: key "num_hidden_layers" is 1000000000'),
        "config_vocab_1e20": (setk(vocab_size=1e20), 'config.json: key "vocab_size" must be an integer'),
        "config_rope_theta_0": (setk(rope_theta=0.0), 'config.json: key "rope_theta" must be a number > 0'),
        "config_rope_theta_negative": (setk(rope_theta=-1e4), 'config.json: key "rope_theta" must be a number > 0'),
        "config_rms_norm_eps_negative": (setk(rms_norm_eps=-1e-6), 'config.json: key "rms_norm_eps" must be a number >= 0'),
        "config_model_type_unknown": (setk(model_type="gpt2"), 'config.json: model_type "gpt2" is not supported'),
        "config_heads_not_divisible": (setk(num_key_value_heads=3), "must be a multiple of num_key_value_heads"),
        "config_yarn_zero_original": (setk(rope_scaling={"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 0}),
                                      'config.json: key "rope_scaling.original_max_position_embeddings" is 0'),
        "config_not_json": (lambda c: json.dumps(c)[:-20], "config.json: invalid JSON at line"),
        # Sizes that pass the sanity bounds but not the memory there is: refused before allocating.
        "config_needs_too_much_memory": (setk(hidden_size=2 ** 18, intermediate_size=2 ** 20, vocab_size=2 ** 24,
                                              num_hidden_layers=4096, num_attention_heads=2048, num_key_value_heads=2048),
                                         "loading needs about"),
    }
    for case, (edit, expect) in bad.items():
        tiny_model(case, config=edit)
        add(case, GEN + [case] + IDS, expect)
    # Fewer layers than the checkpoint: accepted (as Hugging Face does), with a warning.
    tiny_model("config_fewer_layers", config=setk(num_hidden_layers=2))
    add("config_fewer_layers", GEN + ["config_fewer_layers"] + IDS, "layers 2..3 are not used", status=0)
    folder("config_missing")
    add("config_missing", GEN + ["config_missing"] + IDS, "config_missing/config.json: cannot open file")


# ---- model.safetensors and shards ----
def weight_cases():
    def nan_at(name, index, value=float("nan")):
        def edit(ts):
            find(ts, name)["data"][2 * index:2 * index + 2] = bf16(value)
        return edit

    def wrong_shape(ts):
        t = find(ts, "model.layers.1.self_attn.k_proj.weight")
        t["shape"] = t["shape"][::-1]

    def drop(name):
        return lambda ts: ts.remove(find(ts, name))

    def int_dtype(ts):
        find(ts, "model.norm.weight")["dtype"] = "I16"

    def overlap(header):
        header["model.norm.weight"]["data_offsets"] = [0, header["model.norm.weight"]["data_offsets"][1]
                                                       - header["model.norm.weight"]["data_offsets"][0]]
    full = tiny_with(lambda ts: None)
    weights = {
        "st_nan_weight": (tiny_with(nan_at("model.layers.1.mlp.up_proj.weight", 1000)),
                          "tensor model.layers.1.mlp.up_proj.weight: element 1000 is NaN"),
        "st_inf_norm": (tiny_with(nan_at("model.layers.3.post_attention_layernorm.weight", 7, math.inf)),
                        "tensor model.layers.3.post_attention_layernorm.weight: element 7 is infinite"),
        "st_wrong_shape": (tiny_with(wrong_shape),
                           "tensor model.layers.1.self_attn.k_proj.weight: expected shape [128, 256], file has [256, 128]"),
        "st_missing_tensor": (tiny_with(drop("model.layers.2.mlp.up_proj.weight")),
                              "tensor model.layers.2.mlp.up_proj.weight: missing from the checkpoint"),
        "st_integer_dtype": (tiny_with(int_dtype), "tensor model.norm.weight: dtype I16 is not a floating-point type"),
        "st_truncated": (full[:len(full) - 1000], "model.safetensors: tensor"),
        "st_header_length_huge": (struct.pack("<Q", 2 ** 40) + full[8:], "safetensors header length 1099511627776 exceeds"),
        "st_header_not_json": (full[:8] + b"x" + full[9:], "model.safetensors (safetensors header): invalid JSON"),
        "st_offsets_overlap": (tiny_with(lambda ts: None, overlap), "offsets must be contiguous"),
        "st_too_short": (b"\x01\x02\x03", "model.safetensors: not a safetensors file (3 bytes"),
    }
    for case, (data, expect) in weights.items():
        tiny_model(case, weights=data)
        add(case, GEN + [case] + IDS, expect)
    # Shards: an index that names the wrong file for half the tensors.
    d = tiny_model("index_wrong_shard")
    os.remove(os.path.join(d, "model.safetensors"))
    a, b = TINY[0::2], TINY[1::2]
    open(os.path.join(d, "model-00001-of-00002.safetensors"), "wb").write(st_bytes(a))
    open(os.path.join(d, "model-00002-of-00002.safetensors"), "wb").write(st_bytes(b))
    wm = {t["name"]: "model-00002-of-00002.safetensors" for t in a}
    wm.update({t["name"]: "model-00001-of-00002.safetensors" for t in b})
    json.dump({"weight_map": wm}, open(os.path.join(d, "model.safetensors.index.json"), "w"))
    add("index_wrong_shard", GEN + ["index_wrong_shard"] + IDS, "but that file does not hold it")
    d = tiny_model("index_escapes_folder")
    json.dump({"weight_map": {"model.norm.weight": "../model.safetensors"}}, open(os.path.join(d, "model.safetensors.index.json"), "w"))
    add("index_escapes_folder", GEN + ["index_escapes_folder"] + IDS, 'shard name "../model.safetensors" must be a plain file name')


# ---- tokenizer.json, tokenizer_config.json, generation_config.json ----
def tokenizer_cases():
    tok = json.load(open(os.path.join(BUNDLED, "tokenizer.json")))

    def variant(edit):
        t = json.loads(json.dumps(tok))
        edit(t)
        return json.dumps(t, ensure_ascii=False)
    bundled_model("tok_no_merges", {"tokenizer.json": variant(lambda t: t["model"].pop("merges"))})
    add("tok_no_merges", GEN + ["tok_no_merges"] + PROMPT, "tok_no_merges/tokenizer.json: model.merges: missing")

    def bad_merge(t):
        t["model"]["merges"][5] = "notatoken alsonot"
    bundled_model("tok_merge_not_in_vocab", {"tokenizer.json": variant(bad_merge)})
    add("tok_merge_not_in_vocab", GEN + ["tok_merge_not_in_vocab"] + PROMPT, "model.merges[5]: token 'notatoken' is not in the vocabulary")

    def dup(t):
        v = t["model"]["vocab"]
        v["zzz_duplicate"] = v["def"]
    bundled_model("tok_duplicate_ids", {"tokenizer.json": variant(dup)})
    add("tok_duplicate_ids", GEN + ["tok_duplicate_ids"] + PROMPT, "both have id", status=0)
    bundled_model("tok_not_json", {"tokenizer.json": json.dumps(tok)[:5000]})
    add("tok_not_json", GEN + ["tok_not_json"] + PROMPT, "tok_not_json/tokenizer.json: invalid JSON")

    gen = {"gen_top_k_1e20": ('{"do_sample": true, "top_k": 1e20}', 'generation_config.json: key "top_k" must be an integer'),
           "gen_temperature_negative": ('{"do_sample": true, "temperature": -1}', 'generation_config.json: key "temperature" must be a number >= 0'),
           "gen_not_object": ('[1, 2]', "generation_config.json: expected a JSON object")}
    for case, (text, expect) in gen.items():
        bundled_model(case, {"generation_config.json": text})
        add(case, GEN + [case] + IDS, expect)
    bundled_model("tok_config_bad_template", {"tokenizer_config.json": json.dumps({"chat_template": 42})})
    add("tok_config_bad_template", GEN + ["tok_config_bad_template", "--chat"] + PROMPT,
        "tokenizer_config.json: chat_template must be a string or a list")


# ---- chat templates (through generate --chat --chat-template FILE) ----
def template_cases():
    templates = {
        "tmpl_repeat_2p62": ("{{ 'abcd' * 4611686018427387904 }}", "chat template line 1: integer overflow"),
        "tmpl_repeat_huge": ("{{ 'abcd' * 1152921504606846976 }}", "chat template line 1: a string of 4611686018427387904 bytes"),
        "tmpl_nested_range": ("{% for i in range(1000000) %}{% for j in range(1000000) %}{% endfor %}{% endfor %}",
                              "chat template line 1: evaluation stopped after"),
        "tmpl_int_overflow": ("{{ 9223372036854775807 + 1 }}", "chat template line 1: integer overflow in 9223372036854775807 + 1"),
        "tmpl_power_overflow": ("{{ 3 ** 99 }}", "chat template line 1: integer overflow"),
        "tmpl_doubling": ("{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
                          "would exceed the limit"),
        "tmpl_parse_error": ("{% for m in messages %}{{ m.content }", "chat template line 1"),
        "tmpl_unsupported_tag": ("{% include 'x.html' %}", "unsupported Jinja construct"),
        "tmpl_raise_exception": ("{{ raise_exception('no system role') }}", "chat template raised an exception: no system role"),
        "tmpl_self_namespace": ("{% set ns = namespace() %}{% set ns.me = ns %}", "a namespace cannot hold"),
    }
    d = folder("templates")
    for case, (src, expect) in templates.items():
        with open(os.path.join(d, case + ".jinja"), "w") as f:
            f.write(src)
        add(case, GEN + [BUNDLED_REL, "--chat", "--chat-template", "templates/" + case + ".jinja"] + PROMPT, expect)


# ---- LoRA adapters ----
def adapter_cases():
    meta, qv = read_st(os.path.join(FIX, "qwen2-tiny", "lora-qv", "adapter_model.safetensors"))
    base_cfg = json.load(open(os.path.join(FIX, "qwen2-tiny", "lora-qv", "adapter_config.json")))
    model = tiny_model("lora_base")

    def adapter(case, edit=None, cfg_edit=None):
        d = folder(case)
        ts = [dict(t, data=bytearray(t["data"]), shape=list(t["shape"])) for t in qv]
        if edit:
            edit(ts)
        open(os.path.join(d, "adapter_model.safetensors"), "wb").write(st_bytes(ts, meta))
        cfg = dict(base_cfg)
        if cfg_edit:
            cfg_edit(cfg)
        json.dump(cfg, open(os.path.join(d, "adapter_config.json"), "w"))

    def rename(ts):
        ts[0]["name"] = "base_model.model.model.layers.12345678901234567890.self_attn.q_proj.lora_A.weight"

    def nan(ts):
        ts[1]["data"][6:8] = bf16(float("nan"))

    def shape(ts):
        ts[1]["shape"] = [128, 8]
        ts[1]["data"] = bytearray(128 * 8 * 2)
    cases_ = {
        "lora_layer_20_digits": (rename, None, "layer 12345678901234567890 does not exist"),
        "lora_catastrophic_regex": (None, lambda c: c.update(target_modules="(.*.*)*x$"), "is not in target_modules"),
        "lora_invalid_regex": (None, lambda c: c.update(target_modules="(q_proj"), "target_modules: regular expression \"(q_proj\""),
        "lora_nan": (nan, None, "lora_B.weight: element 3 is NaN"),
        "lora_wrong_shape": (shape, None, "expected shape [256, 4], file has [128, 8]"),
        "lora_alpha_string": (None, lambda c: c.update(lora_alpha="eight"), '"lora_alpha" must be a finite number'),
        "lora_rank_mismatch": (None, lambda c: c.update(r=8), "rank 4 in the file but 8"),
    }
    for case, (edit, cfg_edit, expect) in cases_.items():
        adapter(case, edit, cfg_edit)
        add(case, GEN + ["lora_base", "--adapter", case] + IDS, expect)
    adapter("lora_alpha_zero", None, lambda c: c.update(lora_alpha=0))
    add("lora_alpha_zero", GEN + ["lora_base", "--adapter", "lora_alpha_zero"] + IDS, "lora_alpha is 0", status=0)
    folder("lora_empty")
    add("lora_empty", GEN + ["lora_base", "--adapter", "lora_empty"] + IDS, "lora_empty/adapter_config.json: cannot open file")


# ---- perplexity windows ----
def window_cases():
    d = folder("windows")

    def windows(name, shape, values=None, dtype="I32"):
        n = shape[0] * shape[1]
        data = bytearray(struct.pack("<%di" % n, *(values or [5] * n)))
        open(os.path.join(d, name), "wb").write(st_bytes([{"name": "windows", "dtype": dtype, "shape": shape, "data": data}]))
    windows("empty.safetensors", [0, 16])
    windows("one_token.safetensors", [3, 1])
    windows("oov.safetensors", [1, 4], [1, 2, 5000, 3])
    windows("four_million.safetensors", [1, 4194304])
    ppl = ["perplexity", "-m", "lora_base", "--windows"]
    add("ppl_no_windows", ppl + ["windows/empty.safetensors"], "windows/empty.safetensors: tensor windows [0, 16] holds no windows")
    add("ppl_one_token_windows", ppl + ["windows/one_token.safetensors"], "windows need at least 2 tokens")
    add("ppl_out_of_vocabulary", ppl + ["windows/oov.safetensors"], "token id 5000 is outside the model's vocabulary")
    add("ppl_windows_4M_tokens", ppl + ["windows/four_million.safetensors"], "loading needs about")


# ---- GGUF files (cut and edited from the fixture pycoder-6m-q8_0.gguf) ----
def gguf_cases():
    d = folder("gguf")
    src = os.path.join(FIX, "gguf", "pycoder-6m-q8_0.gguf")
    raw = open(src, "rb").read()
    g = gguf_file.read(src)

    def edited(edit):
        e = gguf_file.copy(g)
        edit(e)
        return gguf_file.write_bytes(e)

    def setk(key, t, v):
        return lambda e: gguf_file.set_kv(e, key, t, v)

    def patch(offset, data):
        return raw[:offset] + data + raw[offset + len(data):]

    def nan_scale(e):  # row 5, block 3 of a [768, 256] Q8_0 matrix (8 blocks of 34 bytes a row)
        gguf_file.tensor(e, "blk.2.ffn_up.weight")["data"][(5 * 8 + 3) * 34:(5 * 8 + 3) * 34 + 2] = b"\x00\x7e"

    def inf_norm(e):
        gguf_file.tensor(e, "blk.3.ffn_norm.weight")["data"][28:32] = struct.pack("<f", math.inf)

    def drop(name):
        return lambda e: e["tensors"].remove(gguf_file.tensor(e, name))

    def type_of(name, t):
        return lambda e: gguf_file.tensor(e, name).update(type=t)

    def offset_past_end(e):
        gguf_file.tensor(e, "output_norm.weight")["force_offset"] = 1 << 40
    tokens_key = b"tokenizer.ggml.tokens"
    at = raw.index(tokens_key) + len(tokens_key) + 4 + 4  # the tokens array's count
    files = {
        "gguf_truncated": (raw[:len(raw) - 5000], "gguf_truncated.gguf: tensor blk.5.ffn_down.weight: [256, 768] Q8_0 "
                                                  "needs bytes"),
        "gguf_header_cut": (raw[:200], "gguf_header_cut.gguf: metadata count 21 cannot fit in the 176 bytes left"),
        "gguf_version_99": (patch(4, struct.pack("<I", 99)), "GGUF version 99 is not supported"),
        "gguf_tensor_count_huge": (patch(8, struct.pack("<Q", 1 << 60)), "tensor count 1152921504606846976 cannot fit"),
        "gguf_array_count_huge": (patch(at, struct.pack("<Q", 1 << 40)),
                                  "metadata tokenizer.ggml.tokens: array of 1099511627776 strings runs past the end"),
        "gguf_nan_scale": (edited(nan_scale), "tensor blk.2.ffn_up.weight (model.layers.2.mlp.up_proj.weight): row 5, "
                                              "block 3 has a non-finite scale"),
        "gguf_inf_norm": (edited(inf_norm), "tensor blk.3.ffn_norm.weight (model.layers.3.post_attention_layernorm.weight): "
                                            "element 7 is infinite"),
        "gguf_missing_tensor": (edited(drop("blk.3.ffn_up.weight")),
                                "tensor blk.3.ffn_up.weight (model.layers.3.mlp.up_proj.weight) is missing"),
        "gguf_unknown_type": (edited(type_of("blk.1.attn_q.weight", 99)), "tensor blk.1.attn_q.weight: unknown ggml type 99"),
        "gguf_offset_past_end": (edited(offset_past_end), "tensor output_norm.weight: [256] F32 needs bytes 1099511627776.."),
        "gguf_unknown_architecture": (edited(setk("general.architecture", gguf_file.STRING, "gpt2")),
                                      'architecture "gpt2" is not supported'),
        "gguf_block_count_wrong": (edited(setk("qwen2.block_count", gguf_file.U32, 7)),
                                   "tensor blk.6.attn_norm.weight (model.layers.6.input_layernorm.weight) is missing"),
        "gguf_key_wrong_type": (edited(setk("qwen2.embedding_length", gguf_file.STRING, "256")),
                                "metadata qwen2.embedding_length is a string, expected an integer"),
        "gguf_head_count_zero": (edited(setk("qwen2.attention.head_count", gguf_file.U32, 0)),
                                 "qwen2.attention.head_count must be positive"),
    }
    for case, (data, expect) in files.items():
        open(os.path.join(d, case + ".gguf"), "wb").write(data)
        add(case, GEN + ["gguf/" + case + ".gguf"] + IDS, expect)
    # An eos id outside the vocabulary: generation goes on (as for config.json), with a warning;
    # the tokenizer metadata refuses it where it is read (--prompt).
    open(os.path.join(d, "gguf_eos_out_of_vocabulary.gguf"), "wb").write(
        edited(setk("tokenizer.ggml.eos_token_id", gguf_file.U32, 99999)))
    add("gguf_eos_out_of_vocabulary", GEN + ["gguf/gguf_eos_out_of_vocabulary.gguf"] + IDS,
        "gguf_eos_out_of_vocabulary.gguf (metadata): eos_token_id 99999 is outside the vocabulary", status=0)
    add("gguf_eos_out_of_vocabulary_chat", GEN + ["gguf/gguf_eos_out_of_vocabulary.gguf", "--chat"] + PROMPT,
        "gguf_eos_out_of_vocabulary.gguf: tokenizer.ggml.eos_token_id 99999 is outside the vocabulary")
    link(src, os.path.join(d, "pycoder-6m-q8_0.gguf"))
    add("gguf_max_ctx_16M", GEN + ["gguf/pycoder-6m-q8_0.gguf"] + IDS + ["--max-ctx", "16777216"], "loading needs about")

    # A GGUF LoRA adapter for qwen2-tiny (lora_base), from its lora-qv fixture.
    meta, qv = read_st(os.path.join(FIX, "qwen2-tiny", "lora-qv", "adapter_model.safetensors"))
    alpha = json.load(open(os.path.join(FIX, "qwen2-tiny", "lora-qv", "adapter_config.json")))["lora_alpha"]

    def adapter(case, edit=None, arch="qwen2"):
        tensors = []
        for t in qv:
            layer = int(t["name"].split(".layers.")[1].split(".")[0])
            proj = "attn_q" if ".q_proj." in t["name"] else "attn_v"
            part = "lora_a" if ".lora_A." in t["name"] else "lora_b"
            vals = [struct.unpack("<f", b"\0\0" + bytes(t["data"][i:i + 2]))[0] for i in range(0, len(t["data"]), 2)]
            tensors.append({"name": "blk.%d.%s.weight.%s" % (layer, proj, part), "ne": t["shape"][::-1],
                            "type": gguf_file.GGML_F32, "data": bytearray(struct.pack("<%df" % len(vals), *vals))})
        if edit:
            edit(tensors)
        kv = [["general.architecture", gguf_file.STRING, arch], ["general.type", gguf_file.STRING, "adapter"],
              ["adapter.type", gguf_file.STRING, "lora"], ["adapter.lora.alpha", gguf_file.F32, float(alpha)]]
        open(os.path.join(d, case + ".gguf"), "wb").write(gguf_file.write_bytes({"version": 3, "kv": kv, "tensors": tensors}))
        return "gguf/" + case + ".gguf"

    def nan_b(ts):
        next(t for t in ts if t["name"] == "blk.1.attn_v.weight.lora_b")["data"][12:16] = struct.pack("<f", math.nan)
    add("gguf_lora_nan", GEN + ["lora_base", "--adapter", adapter("gguf_lora_nan", nan_b)] + IDS,
        "tensor blk.1.attn_v.weight.lora_b: element 3 is NaN")
    add("gguf_lora_wrong_architecture", GEN + ["lora_base", "--adapter", adapter("gguf_lora_llama", arch="llama")] + IDS,
        "adapter for architecture llama, the model is qwen2")
    add("gguf_lora_one_half", GEN + ["lora_base", "--adapter", adapter("gguf_lora_one_half", lambda ts: ts.pop())] + IDS,
        "has only one of lora_a and lora_b")


# ---- options ----
def option_cases():
    m = ["generate", "-m", "lora_base"]
    opts = {
        "opt_max_ctx_16M": (m + IDS + ["--max-ctx", "16777216"], "loading needs about"),
        "opt_max_ctx_too_large": (m + IDS + ["--max-ctx", "99999999999"], "--max-ctx: 99999999999 is out of range"),
        "opt_bad_dtype": (m + IDS + ["--dtype", "q3"], '--dtype: "q3" is not one of f32, f16, int8, int4'),
        "opt_temp_nan": (m + IDS + ["--temp", "nan"], '--temp: expected a number, got "nan"'),
        "opt_top_k_huge": (m + IDS + ["--top-k", "100000000000000000000"], '--top-k: expected an integer'),
        "opt_ids_too_large": (m + ["--ids", "99999999999", "-n", "1"], "--ids: token id 99999999999 is too large"),
        "opt_ids_out_of_vocabulary": (m + ["--ids", "5000", "-n", "1"], "token id 5000 is outside the vocabulary"),
        "opt_unknown": (m + IDS + ["--frobnicate"], 'unknown option "--frobnicate"'),
        "opt_missing_value": (m + ["--ids"], "--ids: expected a value after it"),
        "opt_scale_without_adapter": (m + IDS + ["--adapter-scale", "2"], "--adapter-scale needs --adapter DIR"),
        "opt_unknown_template": (["generate", "-m", BUNDLED_REL, "--chat", "--chat-template", "vicuna"] + PROMPT,
                                 "--chat-template: chat template \"vicuna\": no such file, and not a built-in format"),
        "opt_context_overflow": (m + ["--ids", "1,2,3", "-n", "20", "--max-ctx", "16"], "max_ctx is 16"),
    }
    for case, (args, expect) in opts.items():
        add(case, args, expect)


if __name__ == "__main__":
    if os.path.exists(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    link(BUNDLED, os.path.join(OUT, "bundled"))
    BUNDLED_REL = "bundled"
    config_cases()
    weight_cases()
    tokenizer_cases()
    template_cases()
    adapter_cases()
    window_cases()
    option_cases()
    gguf_cases()
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(cases, f, indent=1)
    print("%d cases in %s" % (len(cases), OUT))
