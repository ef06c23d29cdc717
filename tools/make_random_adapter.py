#!/usr/bin/env python3
"""Writes a PEFT LoRA adapter with small random BF16 weights for a model folder's config.json,
on all seven projections of every layer: for benchmarks of adapter overhead.
usage: make_random_adapter.py MODEL_DIR OUT_DIR [RANK]"""
import json, os, random, struct, sys

model, out = sys.argv[1], sys.argv[2]
rank = int(sys.argv[3]) if len(sys.argv) > 3 else 16
c = json.load(open(os.path.join(model, "config.json")))
h, inter, L = c["hidden_size"], c["intermediate_size"], c["num_hidden_layers"]
hd = c.get("head_dim") or h // c["num_attention_heads"]
q, kv = c["num_attention_heads"] * hd, c.get("num_key_value_heads", c["num_attention_heads"]) * hd
dims = {"self_attn.q_proj": (h, q), "self_attn.k_proj": (h, kv), "self_attn.v_proj": (h, kv),
        "self_attn.o_proj": (q, h), "mlp.gate_proj": (h, inter), "mlp.up_proj": (h, inter), "mlp.down_proj": (inter, h)}
rnd = random.Random(1)
# A fixed pattern of small BF16 values (|x| ~ 1e-3), tiled: the values do not matter for speed.
pattern = b"".join(struct.pack("<H", (0x3A80 + rnd.randrange(0, 0x80)) | (0x8000 if rnd.random() < 0.5 else 0)) for _ in range(8192))
header, blobs, off = {}, [], 0
for l in range(L):
    for mod, (i, o) in dims.items():
        for name, shape in (("lora_A", [rank, i]), ("lora_B", [o, rank])):
            n = shape[0] * shape[1] * 2
            key = f"base_model.model.model.layers.{l}.{mod}.{name}.weight"
            header[key] = {"dtype": "BF16", "shape": shape, "data_offsets": [off, off + n]}
            blobs.append((pattern * (n // len(pattern) + 1))[:n])
            off += n
hj = json.dumps(header).encode()
hj += b" " * ((8 - len(hj) % 8) % 8)
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "adapter_model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(hj)) + hj)
    for b in blobs:
        f.write(b)
json.dump({"peft_type": "LORA", "r": rank, "lora_alpha": 2 * rank, "target_modules": [m.split(".")[1] for m in dims]},
          open(os.path.join(out, "adapter_config.json"), "w"))
print(f"wrote {out}: rank {rank}, {L} layers x 7 projections")
