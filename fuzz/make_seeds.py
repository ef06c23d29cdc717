#!/usr/bin/env python3
"""Writes the seed corpus of each fuzz target into fuzz/corpus/<target>/ (small, valid inputs
that reach deep into each parser; the fuzzer mutates from there). Run from anywhere; the seeds
are kept in the repository so that a run starts from them without this script. The GGUF seeds
are cut down from the fixtures' GGUF files (HEARTH_FIXTURES, default ../shared/fixtures)."""
import json
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")
FIX = os.environ.get("HEARTH_FIXTURES", os.path.join(HERE, "..", "..", "shared", "fixtures"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "malformed"))
import gguf_file  # noqa: E402

BF16 = {"F32": ("<f", 4), "F16": ("<e", 2), "I32": ("<i", 4)}


def bf16(x):
    return struct.pack("<I", struct.unpack("<I", struct.pack("<f", x))[0])[2:]


def safetensors(tensors, metadata=None):
    """tensors: list of (name, dtype, shape, values) -> bytes."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, values in tensors:
        if dtype == "BF16":
            raw = b"".join(bf16(v) for v in values)
        else:
            fmt, _ = BF16[dtype]
            raw = b"".join(struct.pack(fmt, v) for v in values)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + data


def write(target, name, content):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(content if isinstance(content, bytes) else content.encode())


def seeds_safetensors():
    write("safetensors", "bf16_two", safetensors([("a.weight", "BF16", [2, 3], [0.5, -1, 2, 3, 0, 1e-3]),
                                                  ("b", "BF16", [3], [1, 2, 3])]))
    write("safetensors", "f32_meta", safetensors([("x", "F32", [2, 2], [1.5, -2.5, 3.25, 0])], {"format": "pt"}))
    write("safetensors", "zero_elements", safetensors([("empty", "BF16", [0, 4], []), ("one", "F16", [1], [7])]))
    write("safetensors", "ints", safetensors([("windows", "I32", [2, 3], [1, 2, 3, 4, 5, 6]), ("s", "F16", [], [2])]))


def seeds_json_config():
    base = {"model_type": "qwen2", "vocab_size": 1024, "hidden_size": 64, "intermediate_size": 128,
            "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
            "max_position_embeddings": 4096, "rms_norm_eps": 1e-6, "rope_theta": 1e6,
            "tie_word_embeddings": True, "bos_token_id": 1, "eos_token_id": [2, 3]}
    write("json_config", "qwen2", json.dumps(base, indent=2))
    q3 = dict(base, model_type="qwen3", head_dim=32, attention_bias=False,
              layer_types=["full_attention", "sliding_attention"], sliding_window=128)
    write("json_config", "qwen3_layers", json.dumps(q3))
    l3 = dict(base, model_type="llama", rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                                      "high_freq_factor": 4.0, "original_max_position_embeddings": 8192})
    write("json_config", "llama3", json.dumps(l3))
    yarn = dict(base, rope_parameters={"rope_type": "yarn", "rope_theta": 10000, "factor": 4.0,
                                       "original_max_position_embeddings": 1024, "beta_fast": 32, "beta_slow": 1})
    write("json_config", "yarn", json.dumps(yarn))
    write("json_config", "generation", json.dumps({"do_sample": True, "temperature": 0.7, "top_k": 20, "top_p": 0.8,
                                                   "min_p": 0.0, "repetition_penalty": 1.05, "eos_token_id": 2}))
    write("json_config", "json_syntax", '{"a": [1, -2.5e-3, "s\\u00e9\\ud83d\\ude00", null, true, false], "b": {"c": NaN}}')


def byte_level_tokenizer():
    vocab = {"<|endoftext|>": 0, "h": 1, "e": 2, "l": 3, "o": 4, "\u0120": 5, "w": 6, "r": 7, "d": 8,
             "he": 9, "ll": 10, "hell": 11, "hello": 12, "\u0120w": 13, "!": 14, "1": 15}
    return {"version": "1.0", "truncation": None, "padding": None,
            "added_tokens": [{"id": 0, "content": "<|endoftext|>", "single_word": False, "lstrip": False,
                              "rstrip": False, "normalized": False, "special": True},
                             {"id": 16, "content": "<|im_end|>", "single_word": False, "lstrip": False,
                              "rstrip": False, "normalized": False, "special": True}],
            "normalizer": {"type": "NFC"},
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": "\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+|\\s+"},
                 "behavior": "Isolated", "invert": False},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
            "post_processor": None,
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                      "vocab": vocab, "merges": ["h e", "l l", "he ll", "hell o", "\u0120 w"]}}


def sentencepiece_tokenizer():
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2, "\u2581": 3, "a": 4, "b": 5, "\u2581a": 6, "ab": 7, "\u2581ab": 8}
    for b in range(256):
        vocab["<0x%02X>" % b] = 9 + b
    return {"version": "1.0", "added_tokens": [{"id": 1, "content": "<s>", "special": True, "normalized": False,
                                                "lstrip": False, "rstrip": False, "single_word": False}],
            "normalizer": {"type": "Sequence", "normalizers": [
                {"type": "Prepend", "prepend": "\u2581"},
                {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
            "pre_tokenizer": None,
            "decoder": {"type": "Sequence", "decoders": [
                {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
                {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
            "model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": True, "byte_fallback": True,
                      "vocab": vocab, "merges": [["\u2581", "a"], ["a", "b"], ["\u2581a", "b"]]}}


def seeds_tokenizers():
    write("tokenizer_load", "byte_level", json.dumps(byte_level_tokenizer(), ensure_ascii=False))
    write("tokenizer_load", "sentencepiece", json.dumps(sentencepiece_tokenizer(), ensure_ascii=False))
    texts = ["Hello, world!", "def f(x):\n    return x ** 2  # \u00e9t\u00e9", "\u4e2d\u6587 \U0001F600 \u0645\u0631\u062d\u0628\u0627",
             "<|im_end|><|endoftext|> <s></s>", "   \t\n\r\n  ", "caf\u00e9 = cafe\u0301 \ufb01"]
    for i, t in enumerate(texts):
        write("tokenizer_text", "text%d" % i, bytes([i % 4]) + t.encode())
    write("tokenizer_text", "invalid_utf8", bytes([1]) + b"a\xff\xfe\xc3(b\xe2\x82")


TEMPLATES = {
    "loops_and_filters": """{%- set ns = namespace(n=0, found=false) -%}
{%- for m in messages if m.role != 'tool' -%}
{%- set ns.n = ns.n + 1 -%}
{{ loop.index }}/{{ loop.length }} {{ m.role | upper }}: {{ m.content | trim | replace('\\n', ' ') }}
{%- if m.tool_calls is defined %}{% for c in m.tool_calls %}{{ c.function.name }}({{ c.function.arguments | tojson }}){% endfor %}{% endif %}
{%- if loop.last %} [{{ ns.n }}]{% endif %}
{% endfor -%}
{%- if tools %}{{ tools | map(attribute='function') | map(attribute='name') | join(', ') }}{% endif -%}""",
    "macros_and_slices": """{% macro turn(role, text='') -%}<{{ role }}>{{ text[:20] ~ '...' if text | length > 20 else text }}</{{ role }}>{%- endmacro %}
{%- for m in messages[::-1] %}{{ turn(m.role, m.content) }}{% endfor -%}
{{ (messages | selectattr('role', 'equalto', 'user') | list | length) * 2 ** 3 // 5 % 7 }}
{{ '%s=%d %.2f' | format('x', 42, 3.14159) }}{{ [3, 1, 2] | sort | reverse | first }}{{ {'b': 1, 'a': 2} | dictsort }}""",
    "strings_and_tests": """{%- set s = messages[1].content -%}
{{ s.split(' ') }}{{ s.startswith('Hi') }}{{ s.find('&') }}{{ s | e }}{{ s.strip('H').title() }}
{%- if 3 is odd and 4 is even and 9 is divisibleby 3 and none is none and s is string %}ok{% endif -%}
{%- for k, v in {'x': 1, 'y': [1, 2]}.items() %}{{ k }}={{ v }}{% if not loop.last %},{% endif %}{% endfor -%}
{{ range(3) | list }}{{ range(10, 0, -3) | list }}{{ raise_exception('stop') if false }}""",
    "generation": """{%- for m in messages %}{%- if m.role == 'assistant' %}{% generation %}{{ m.content }}{% endgeneration %}{% else %}{{ m.content }}{% endif %}{%- endfor %}
{%- filter upper %}done{% endfilter %}{% set block %}captured {{ bos_token }}{% endset %}{{ block | length }}{# comment #}{% raw %}{{ not evaluated }}{% endraw %}""",
}


def seeds_chat_templates():
    # The built-in formats (the raw strings of src/chat/named_templates.cpp), and templates that
    # exercise the rest of the subset.
    src = open(os.path.join(HERE, "..", "src", "chat", "named_templates.cpp")).read()
    for name, body in re.findall(r'const char\* const k(\w+) = R"\((.*?)\)";', src, re.S):
        write("chat_template", "named_" + name.lower(), body)
    for name, text in TEMPLATES.items():
        write("chat_template", name, text)


def seeds_lora():
    # The fuzz target's model: hidden 16, 2 heads (q 16), 1 KV head (k, v 8), intermediate 24.
    peft = json.dumps({"peft_type": "LORA", "r": 2, "lora_alpha": 4, "target_modules": ["q_proj", "v_proj", "down_proj"],
                       "rank_pattern": {"down_proj": 2}, "alpha_pattern": {"v_proj": 2}})
    t = [("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", "BF16", [2, 16], [0.01 * i for i in range(32)]),
         ("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", "BF16", [16, 2], [0.02 * i for i in range(32)]),
         ("base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight", "F32", [2, 16], [0.5] * 32),
         ("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight", "F32", [8, 2], [0.25] * 16),
         ("base_model.model.model.layers.1.mlp.down_proj.lora_A.default.weight", "F16", [2, 24], [1.0] * 48),
         ("base_model.model.model.layers.1.mlp.down_proj.lora_B.default.weight", "F16", [16, 2], [-1.0] * 32)]
    write("lora", "peft", peft.encode() + b"\n----\n" + safetensors(t))
    mlx = json.dumps({"fine_tune_type": "lora", "lora_parameters": {"rank": 2, "scale": 10.0}})
    m = [("model.layers.0.mlp.gate_proj.lora_a", "F32", [16, 2], [0.1] * 32),
         ("model.layers.0.mlp.gate_proj.lora_b", "F32", [2, 24], [0.2] * 48)]
    write("lora", "mlx", b"M" + mlx.encode() + b"\n----\n" + safetensors(m))
    write("lora", "regex_target", json.dumps({"r": 2, "target_modules": r".*\.layers\.[01]\.self_attn\.(q|v)_proj"}).encode()
          + b"\n----\n" + safetensors(t[:2]))


def seeds_regex():
    for i, (p, s) in enumerate([(r".*\.(q_proj|v_proj)", "model.layers.0.self_attn.q_proj"),
                                (r"^model\.layers\.([0-9]|1[0-5])\.(self_attn|mlp)\.\w+_proj$", "model.layers.15.mlp.up_proj"),
                                (r"(?:a|b)*c{2,3}[^x-z]+?", "ababccc123"), (r"(?P<n>\d+)\s\S\W", "12 x!")]):
        write("regex", "p%d" % i, p.encode() + b"\0" + s.encode())


# pycoder-6m's sizes and the seed model's: hidden 256 -> 32, KV width 128 -> 16, feed-forward
# 768 -> 64, vocabulary 8192 -> 256 (fuzz/fuzz_gguf.cpp's seed_model()).
SEED_SIZES = {256: 32, 128: 16, 768: 64, 8192: 256}


def cut_tensor(t):
    """The leading [rows, cols] corner of a fixture tensor (whole ggml blocks, real data)."""
    per, size = gguf_file.BLOCKS[t["type"]]
    ne = [SEED_SIZES[d] for d in t["ne"]]
    row_bytes, keep = t["ne"][0] // per * size, ne[0] // per * size
    rows = ne[1] if len(ne) > 1 else 1
    data = b"".join(t["data"][r * row_bytes:r * row_bytes + keep] for r in range(rows))
    return dict(t, ne=ne, data=data)


def seed_model_gguf(path, version=3):
    """A fixture GGUF cut to one layer of the seed model's sizes, with the first 256 tokens and
    the merges among them."""
    g = gguf_file.read(path)
    arch = gguf_file.get(g, "general.architecture")
    sizes = {"block_count": 1, "embedding_length": 32, "feed_forward_length": 64}
    kv = []
    for key, t, v in g["kv"]:
        short = key[len(arch) + 1:] if key.startswith(arch + ".") else None
        if short in sizes:
            v = sizes[short]
        elif key in ("tokenizer.ggml.tokens", "tokenizer.ggml.token_type"):
            v = [v[0], v[1][:256]]
        elif key == "tokenizer.ggml.merges":
            vocab = set(gguf_file.get(g, "tokenizer.ggml.tokens")[1][:256])
            v = [v[0], [m for m in v[1] if all(p in vocab for p in m.split(" ")) and m.replace(" ", "") in vocab]]
        kv.append([key, t, v])
    tensors = [cut_tensor(t) for t in g["tensors"] if not t["name"].startswith("blk.") or t["name"].startswith("blk.0.")]
    return gguf_file.write_bytes({"version": version, "kv": kv, "tensors": tensors})


def read_safetensors(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    header = json.loads(b[8:8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, e in header.items():
        raw = b[8 + n + e["data_offsets"][0]:8 + n + e["data_offsets"][1]]
        if e["dtype"] == "BF16":
            vals = [struct.unpack("<f", b"\0\0" + raw[i:i + 2])[0] for i in range(0, len(raw), 2)]
        else:
            vals = list(struct.unpack("<%df" % (len(raw) // 4), raw))
        out[name] = (e["shape"], vals)
    return out


def seed_adapter_gguf():
    """qwen2-tiny's lora-qv adapter, layer 0, cut to the seed model (q: 32 -> 32, v: 32 -> 16)
    in llama.cpp's GGUF adapter layout."""
    st = read_safetensors(os.path.join(FIX, "qwen2-tiny", "lora-qv", "adapter_model.safetensors"))
    alpha = json.load(open(os.path.join(FIX, "qwen2-tiny", "lora-qv", "adapter_config.json")))["lora_alpha"]
    tensors = []
    for proj, gname, out in (("q_proj", "attn_q", 32), ("v_proj", "attn_v", 16)):
        prefix = "base_model.model.model.layers.0.self_attn.%s." % proj
        (r, cols), a = st[prefix + "lora_A.weight"]
        (rows, _), bw = st[prefix + "lora_B.weight"]
        a_cut = [a[i * cols + j] for i in range(r) for j in range(32)]       # [r, 32]
        b_cut = [bw[i * r + j] for i in range(out) for j in range(r)]        # [out, r]
        for suffix, ne, vals in (("lora_a", [32, r], a_cut), ("lora_b", [r, out], b_cut)):
            tensors.append({"name": "blk.0.%s.weight.%s" % (gname, suffix), "ne": ne, "type": gguf_file.GGML_F32,
                            "data": struct.pack("<%df" % len(vals), *vals)})
    kv = [["general.architecture", gguf_file.STRING, "qwen2"], ["general.type", gguf_file.STRING, "adapter"],
          ["adapter.type", gguf_file.STRING, "lora"], ["adapter.lora.alpha", gguf_file.F32, float(alpha)]]
    return gguf_file.write_bytes({"version": 3, "kv": kv, "tensors": tensors})


def seeds_gguf():
    q8, q4 = (os.path.join(FIX, "gguf", "pycoder-6m-%s.gguf" % t) for t in ("q8_0", "q4_0"))
    write("gguf", "pycoder_cut_q8_0", seed_model_gguf(q8))
    write("gguf", "pycoder_cut_q4_0", seed_model_gguf(q4))
    write("gguf", "pycoder_cut_q8_0_v2", seed_model_gguf(q8, version=2))
    write("gguf", "lora_qv_cut", seed_adapter_gguf())


if __name__ == "__main__":
    seeds_safetensors()
    seeds_json_config()
    seeds_tokenizers()
    seeds_chat_templates()
    seeds_lora()
    seeds_regex()
    seeds_gguf()
