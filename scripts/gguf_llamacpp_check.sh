#!/usr/bin/env bash
# Cross-check of hearth's GGUF files with llama.cpp itself (not part of the test suite):
# greedy ids from llama.cpp (npm node-llama-cpp, its prebuilt CPU libraries) against hearth's
#  - on the pycoder-6m fixtures (Q8_0, Q4_0) and on hearth's own conversion of pycoder-6m,
#  - on random-weight llama and qwen3 checkpoints that hearth converts to GGUF (F32), which
#    checks llama.cpp's q/k row order for llama and the qwen3 head_dim / q_norm / k_norm keys.
# Setup (once, network needed only here):
#   mkdir -p /tmp/nlc && cd /tmp/nlc && npm init -y >/dev/null &&
#   npm install --no-audit --no-fund --omit=optional node-llama-cpp@3.22.1 @node-llama-cpp/linux-x64@3.22.1
# Run: NODE_PATH=/tmp/nlc/node_modules bash scripts/gguf_llamacpp_check.sh [build/hearth]
set -u
cd "$(dirname "$0")/.."
HEARTH=${1:-build/hearth}
FIX=../shared/fixtures
NODE_PATH=${NODE_PATH:-/tmp/nlc/node_modules}
export NODE_PATH
start=$(date +%s)
TMP=$(mktemp -d)
fails=0
# node resolves bare imports from the script's folder, so run a copy placed next to node_modules.
cp scripts/gguf_llamacpp_greedy.mjs "$NODE_PATH/../greedy.mjs"
llamacpp() { node "$NODE_PATH/../greedy.mjs" "$@"; }
compare() {  # description, file, prompt ids (comma separated), n
  local want got
  want=$("$HEARTH" generate -m "$2" --ids "$3" -n "$4" --temp 0 --print-ids 2>/dev/null | tail -1 | sed 's/^ids: //')
  got=$(llamacpp "$2" "$3" "$4")
  if [ "$want" = "$got" ]; then echo "same  $1"; else echo "DIFF  $1"; echo "  hearth:    $want"; echo "  llama.cpp: $got"; fails=$((fails + 1)); fi
}

python3 -c "
import json
for g in json.load(open('$FIX/pycoder-6m/reference.json'))['greedy']: print(','.join(map(str, g['prompt_ids'])))" > "$TMP/prompts"
"$HEARTH" convert -m "$FIX/pycoder-6m" -o "$TMP/pycoder-q8_0.gguf" --type q8_0 >/dev/null
for f in "$FIX/gguf/pycoder-6m-q8_0.gguf" "$FIX/gguf/pycoder-6m-q4_0.gguf" "$TMP/pycoder-q8_0.gguf"; do
  i=0
  while read -r ids; do
    i=$((i + 1))
    compare "$(basename "$f") prompt $i (64 ids)" "$f" "$ids" 64
  done < "$TMP/prompts"
done

for arch in llama qwen3; do
  if [ $arch = llama ]; then
    extra='"model_type": "llama", "attention_bias": false, "rope_theta": 500000.0'
  else
    extra='"model_type": "qwen3", "head_dim": 48, "rope_theta": 1000000.0'
  fi
  cat > "$TMP/$arch.json" <<JSON
{$extra, "vocab_size": 8192, "hidden_size": 192, "intermediate_size": 256, "num_hidden_layers": 2,
 "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 2048, "rms_norm_eps": 1e-05,
 "tie_word_embeddings": false, "hidden_act": "silu", "bos_token_id": 0, "eos_token_id": 0}
JSON
  "$HEARTH" random-checkpoint --config "$TMP/$arch.json" -o "$TMP/$arch" --seed 3 >/dev/null
  cp "$FIX/pycoder-6m/tokenizer.json" "$FIX/pycoder-6m/tokenizer_config.json" "$TMP/$arch/"
  "$HEARTH" convert -m "$TMP/$arch" -o "$TMP/$arch.gguf" --type f32 >/dev/null
  compare "random $arch converted by hearth (F32, 24 ids)" "$TMP/$arch.gguf" "$(sed -n 1p "$TMP/prompts")" 24
done
rm -rf "$TMP"
echo "$fails differ ($(( $(date +%s) - start )) s)"
[ $fails -eq 0 ]
