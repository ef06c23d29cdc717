#!/usr/bin/env bash
# hearth train / finetune / bench-train as a user calls them, on the PyTorch training fixtures:
# the per-step log against reference.json, the step-0 gradients file against the fixture's, the
# written folders loading back (greedy ids through `hearth generate`), text data, errors.
set -u
HEARTH=$1
FIX=$2
MODEL=$3  # models/pycoder-6m (a tokenizer.json, for text data)
start=$(date +%s.%N)
fails=0
pass() { echo "ok   $1"; }
failed() { echo "FAIL $1"; fails=$((fails + 1)); }
TMP=$(mktemp -d /tmp/hearth_train_cli.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
G=$FIX/train/gpt-qwen2
L=$FIX/train/lora-qwen2-tiny

# The log: one JSON line per step with step, loss, grad_norm, lr, tokens_per_s; the losses,
# norms and rates of reference.json.
check_log() {  # args: log, reference.json, description
  python3 - "$1" "$2" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
ref = json.load(open(sys.argv[2]))["steps"]
assert len(lines) == len(ref), f"{len(lines)} lines, {len(ref)} steps"
for i, (l, r) in enumerate(zip(lines, ref)):
    for k in ("step", "loss", "grad_norm", "lr", "tokens_per_s"):
        assert k in l, f"line {i}: no {k}"
    assert l["step"] == i, f"line {i}: step {l['step']}"
    assert abs(l["loss"] - r["loss"]) <= 1e-3, f"step {i}: loss {l['loss']} vs {r['loss']}"
    assert abs(l["grad_norm"] - r["grad_norm"]) <= 1e-2 * r["grad_norm"], f"step {i}: grad_norm {l['grad_norm']} vs {r['grad_norm']}"
    assert abs(l["lr"] - r["lr"]) <= 1e-9, f"step {i}: lr {l['lr']} vs {r['lr']}"
    assert l["tokens_per_s"] > 0
EOF
}

# Each tensor of two safetensors files (F32): max |a - b| <= tol * max |b|, same names and shapes.
compare_tensors() {  # args: file, reference, tol
  python3 - "$1" "$2" "$3" <<'EOF'
import json, struct, sys
def read(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    out = {}
    for k, v in h.items():
        if k == "__metadata__": continue
        assert v["dtype"] == "F32", k
        s, e = v["data_offsets"]
        out[k] = (v["shape"], struct.unpack(f"<{(e - s) // 4}f", b[8 + n + s:8 + n + e]))
    return out
a, b, tol = read(sys.argv[1]), read(sys.argv[2]), float(sys.argv[3])
assert a.keys() == b.keys(), "different tensor names"
for k in b:
    assert a[k][0] == b[k][0], f"{k}: shape {a[k][0]} vs {b[k][0]}"
    big = max(abs(x) for x in b[k][1])
    worst = max(abs(x - y) for x, y in zip(a[k][1], b[k][1]))
    assert worst <= tol * big, f"{k}: differs by {worst}, largest {big}"
EOF
}

ref_ids() {  # args: reference.json, key, field
  python3 -c "import json;g=json.load(open('$1'))['$2'];print(' '.join(map(str,g['$3'])))"
}

# Pretraining, exactly as the fixture was made.
"$HEARTH" train -m "$G" --data "$G/batches.safetensors" --steps 16 --batch 4 --seq 64 --lr 0.01 --min-lr 0.001 \
  --warmup 3 --beta1 0.9 --beta2 0.95 --eps 1e-8 --weight-decay 0.1 --grad-clip 1 --accum 1 --threads 2 \
  --out "$TMP/gpt" --log "$TMP/gpt.jsonl" --save-grads-step0 "$TMP/grads0.safetensors" >"$TMP/train.out"
rc=$?
[ $rc -eq 0 ] && pass "train runs the gpt-qwen2 fixture" || failed "train exited $rc: $(tail -1 "$TMP/train.out")"
err=$(check_log "$TMP/gpt.jsonl" "$G/reference.json" 2>&1) && pass "train log: every step's loss, grad_norm and lr as PyTorch's" || failed "train log: $err"
err=$(compare_tensors "$TMP/grads0.safetensors" "$G/grads_step0.safetensors" 1e-4 2>&1) && pass "--save-grads-step0 holds PyTorch's step-0 gradients" || failed "--save-grads-step0: $err"
want=$(ref_ids "$G/reference.json" greedy_after ids)
prompt=$(ref_ids "$G/reference.json" greedy_after prompt | tr ' ' ',')
out=$("$HEARTH" generate -m "$TMP/gpt" --ids "$prompt" -n 16 --temp 0 --print-ids 2>&1 | tail -1)
[ "$out" = "ids: $want" ] && pass "the trained folder loads and gives PyTorch's greedy ids" || failed "generate on the trained folder: $out (want $want)"

# Accumulation and BF16 saving: a batch of 4 as 2 micro-batches of 2.
"$HEARTH" train -m "$G" --data "$G/batches.safetensors" --steps 3 --batch 2 --accum 2 --seq 64 --lr 0.01 --min-lr 0.001 \
  --warmup 3 --save-dtype bf16 --out "$TMP/gpt16" --log "$TMP/gpt16.jsonl" >/dev/null
err=$(python3 - "$TMP/gpt16.jsonl" "$G/reference.json" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
ref = json.load(open(sys.argv[2]))["steps"]
assert len(lines) == 3
for l, r in zip(lines, ref[:1]):
    assert abs(l["loss"] - r["loss"]) <= 1e-4, (l["loss"], r["loss"])
EOF
) && pass "--accum 2 --batch 2 gives the batch-of-4 loss" || failed "--accum: $err"
grep -q '"BF16"' "$TMP/gpt16/model.safetensors" && "$HEARTH" generate -m "$TMP/gpt16" --ids 1,2,3 -n 4 --temp 0 >/dev/null 2>&1 \
  && pass "--save-dtype bf16 writes a BF16 folder that loads" || failed "--save-dtype bf16"

# LoRA fine-tuning from the fixture's initial adapter; the adapter generates PyTorch's ids.
"$HEARTH" finetune -m "$FIX/qwen2-tiny" --data "$L/batches.safetensors" --dtype f32 --rank 8 --alpha 16 \
  --targets q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj --adapter-init "$L/init" --steps 10 --batch 2 --seq 48 \
  --lr 0.01 --min-lr 0.001 --warmup 2 --beta1 0.9 --beta2 0.999 --eps 1e-8 --weight-decay 0.01 --grad-clip 1 \
  --out "$TMP/lora" --log "$TMP/lora.jsonl" >"$TMP/finetune.out"
rc=$?
[ $rc -eq 0 ] && pass "finetune runs the lora-qwen2-tiny fixture" || failed "finetune exited $rc: $(tail -1 "$TMP/finetune.out")"
err=$(check_log "$TMP/lora.jsonl" "$L/reference.json" 2>&1) && pass "finetune log: every step as PyTorch's" || failed "finetune log: $err"
[ -f "$TMP/lora/adapter_config.json" ] && [ -f "$TMP/lora/adapter_model.safetensors" ] && pass "finetune writes a PEFT folder" || failed "finetune output"
want=$(ref_ids "$L/reference.json" greedy_with_final ids)
prompt=$(ref_ids "$L/reference.json" greedy_with_final prompt | tr ' ' ',')
out=$("$HEARTH" generate -m "$FIX/qwen2-tiny" --ids "$prompt" -n 24 --temp 0 --print-ids --adapter "$TMP/lora" 2>&1 | tail -1)
[ "$out" = "ids: $want" ] && pass "the fine-tuned adapter gives PyTorch's greedy ids" || failed "generate with the adapter: $out (want $want)"

# QLoRA from a fresh PEFT-style init on an int4 base, then generation with it.
"$HEARTH" finetune -m "$FIX/qwen2-tiny" --data "$L/batches.safetensors" --dtype int4 --rank 4 --alpha 8 \
  --targets v_proj,q_proj --steps 3 --lr 0.01 --out "$TMP/qlora" --log "$TMP/qlora.jsonl" >/dev/null
[ "$(wc -l <"$TMP/qlora.jsonl")" -eq 3 ] && grep -q '"target_modules": \["q_proj", "v_proj"\]' "$TMP/qlora/adapter_config.json" \
  && "$HEARTH" generate -m "$FIX/qwen2-tiny" --dtype int4 --ids 1,2,3 -n 4 --temp 0 --adapter "$TMP/qlora" >/dev/null 2>&1 \
  && pass "finetune --dtype int4 from a fresh init (steps, batch and seq from the token file)" || failed "finetune --dtype int4"

# Pretraining from a config with a seeded init, on text tokenized with the model's tokenizer.
mkdir -p "$TMP/text"
cp "$MODEL/config.json" "$MODEL/tokenizer.json" "$TMP/text/"
printf 'def square(x):\n    return x * x\n\nfor i in range(10):\n    print(square(i))\n' >"$TMP/text/a.py"
printf 'import sys\n\ndef main(argv):\n    print(len(argv))\n\nif __name__ == "__main__":\n    main(sys.argv)\n' >"$TMP/text/b.py"
"$HEARTH" train -m "$TMP/text" --init --seed 3 --data "$TMP/text" --steps 3 --batch 2 --seq 8 --lr 0.001 \
  --out "$TMP/fromtext" --log "$TMP/fromtext.jsonl" >"$TMP/text.out" 2>&1
[ "$(wc -l <"$TMP/fromtext.jsonl" 2>/dev/null)" = 3 ] && [ -f "$TMP/fromtext/tokenizer.json" ] \
  && "$HEARTH" generate -m "$TMP/fromtext" --prompt "def" -n 3 --temp 0 >/dev/null 2>&1 \
  && pass "train --init on a folder of text; the folder carries the tokenizer and loads" || failed "train --init on text: $(tail -1 "$TMP/text.out")"

check_error() {  # args: description, expected substring, command...
  local desc=$1 needle=$2
  shift 2
  local err rc
  err=$("$@" 2>&1 >/dev/null)
  rc=$?
  if [ $rc -eq 2 ] && [ "$(echo "$err" | wc -l)" -eq 1 ] && [[ "$err" == *"$needle"* ]]; then pass "$desc"; else failed "$desc (rc $rc): $err"; fi
}
check_error "missing --data" 'missing required option --data' "$HEARTH" train -m "$G" --steps 1 --batch 1 --seq 4 --out "$TMP/x"
check_error "token rows of another length" 'rows of 65 tokens' "$HEARTH" train -m "$G" --data "$G/batches.safetensors" --seq 32 --out "$TMP/x"
check_error "bad --targets" '"qq_proj" is not one of' "$HEARTH" finetune -m "$FIX/qwen2-tiny" --data "$L/batches.safetensors" --targets q_proj,qq_proj --out "$TMP/x"
check_error "min-lr above lr" '--min-lr must be in' "$HEARTH" train -m "$G" --data "$G/batches.safetensors" --lr 0.001 --min-lr 0.01 --out "$TMP/x"
check_error "text data without a tokenizer" 'no tokenizer.json' "$HEARTH" train -m "$G" --data "$TMP/text/a.py" --steps 1 --batch 1 --seq 4 --out "$TMP/x"
check_error "adapter-init of another rank" 'differs from the rank' "$HEARTH" finetune -m "$FIX/qwen2-tiny" --data "$L/batches.safetensors" --adapter-init "$L/init" --rank 4 --out "$TMP/x"
check_error "unknown option" 'unknown option "--bogus"' "$HEARTH" train --bogus
check_error "a batch that cannot fit" 'GB of activations' "$HEARTH" train -m "$G" --data "$G/batches.safetensors" --batch 1000000 --seq 64 --steps 1 --out "$TMP/x"

out=$("$HEARTH" bench-train --preset d96 --steps 1 --threads 1 2>&1)
[[ "$out" == *"ms/step"*"tok/s"*"activations"* ]] && pass "bench-train prints ms/step, tok/s and memory" || failed "bench-train: $out"

echo "$fails failed ($(python3 -c "print(f'{$(date +%s.%N) - $start:.1f}')") s)"
[ $fails -eq 0 ]
