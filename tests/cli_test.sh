#!/usr/bin/env bash
# The hearth command as a user calls it: reference greedy ids through --print-ids, text
# prompts, perplexity's last line, tokenize, and one-line errors with exit status 2.
set -u
HEARTH=$1
FIX=$2
MODEL=$3
fails=0
pass() { echo "ok   $1"; }
failed() { echo "FAIL $1"; fails=$((fails + 1)); }

want=$(python3 -c "import json;g=json.load(open('$FIX/pycoder-6m/reference.json'))['greedy'][1];print(','.join(map(str,g['prompt_ids'])));print(' '.join(map(str,g['greedy'])))")
ids=$(echo "$want" | sed -n 1p)
expect=$(echo "$want" | sed -n 2p)
out=$("$HEARTH" generate -m "$MODEL" --ids "$ids" -n 64 --temp 0 --print-ids)
[ "$(echo "$out" | tail -1)" = "ids: $expect" ] && pass "generate --ids --print-ids gives the reference ids" || failed "generate --print-ids: $(echo "$out" | tail -1)"

text=$(python3 -c "import json;print(json.load(open('$FIX/pycoder-6m/reference.json'))['greedy'][1]['prompt'], end='')")
out=$("$HEARTH" generate -m "$MODEL" --prompt "$text" -n 64 --temp 0 --print-ids)
[ "$(echo "$out" | tail -1)" = "ids: $expect" ] && pass "generate --prompt tokenizes like the reference" || failed "generate --prompt: $(echo "$out" | tail -1)"

a=$("$HEARTH" generate -m "$MODEL" --prompt "import os" -n 24 --temp 0.8 --top-p 0.9 --seed 7 --print-ids | tail -1)
b=$("$HEARTH" generate -m "$MODEL" --prompt "import os" -n 24 --temp 0.8 --top-p 0.9 --seed 7 --print-ids | tail -1)
c=$("$HEARTH" generate -m "$MODEL" --prompt "import os" -n 24 --temp 0.8 --top-p 0.9 --seed 8 --print-ids | tail -1)
[ "$a" = "$b" ] && [ "$a" != "$c" ] && pass "same seed, same sample; other seed, other sample" || failed "seeded sampling: $a / $b / $c"

out=$("$HEARTH" perplexity -m "$MODEL" --windows "$FIX/pycoder-6m/eval_windows.safetensors" --max-windows 2 2>/dev/null | tail -1)
[[ "$out" =~ ^ppl:\ [0-9]+\.[0-9]+$ ]] && pass "perplexity ends with a ppl line ($out)" || failed "perplexity: $out"

out=$("$HEARTH" tokenize -t "$MODEL" --text "$text")
[ "$out" = "$(echo "$ids" | tr ',' ' ')" ] && pass "tokenize" || failed "tokenize: $out"

# GGUF files wherever a model folder is taken.
GGUF="$FIX/gguf/pycoder-6m-q8_0.gguf"
out=$("$HEARTH" generate -m "$GGUF" --prompt "$text" -n 64 --temp 0 --print-ids)
[ "$(echo "$out" | tail -1)" = "ids: $expect" ] && pass "generate -m FILE.gguf gives the reference ids" || failed "generate -m gguf: $(echo "$out" | tail -1)"
out=$("$HEARTH" tokenize -t "$GGUF" --text "$text")
[ "$out" = "$(echo "$ids" | tr ',' ' ')" ] && pass "tokenize -t FILE.gguf" || failed "tokenize gguf: $out"
out=$("$HEARTH" perplexity -m "$GGUF" --windows "$FIX/pycoder-6m/eval_windows.safetensors" --max-windows 1 2>/dev/null | tail -1)
[[ "$out" =~ ^ppl:\ [0-9]+\.[0-9]+$ ]] && pass "perplexity -m FILE.gguf ($out)" || failed "perplexity gguf: $out"
out=$("$HEARTH" bench -m "$GGUF" --prompt-len 8 --gen 4 | head -1)
[[ "$out" == *"load:"* ]] && pass "bench -m FILE.gguf" || failed "bench gguf: $out"
TMP=$(mktemp -d)
"$HEARTH" convert -m "$FIX/pycoder-6m" -o "$TMP/q4.gguf" --type q4_0 >/dev/null && cmp -s "$TMP/q4.gguf" "$FIX/gguf/pycoder-6m-q4_0.gguf" \
  && pass "convert --type q4_0 writes the fixture's bytes" || failed "convert q4_0"
"$HEARTH" convert -m "$GGUF" -o "$TMP/hf" >/dev/null && out=$("$HEARTH" generate -m "$TMP/hf" --prompt "$text" -n 8 --temp 0 --print-ids | tail -1) \
  && [ "$out" = "ids: $(echo "$expect" | cut -d' ' -f1-8)" ] && pass "convert FILE.gguf -> folder that generates" || failed "convert to folder: $out"
head -c 1000 "$GGUF" > "$TMP/cut.gguf"
printf 'GGUF\x09\x00\x00\x00' > "$TMP/v9.gguf"

check_error() {  # args: description, expected substring, command...
  local desc=$1 needle=$2
  shift 2
  local err rc
  err=$("$@" 2>&1 >/dev/null)
  rc=$?
  if [ $rc -eq 2 ] && [ "$(echo "$err" | wc -l)" -eq 1 ] && [[ "$err" == *"$needle"* ]]; then pass "$desc"; else failed "$desc (rc $rc): $err"; fi
}
check_error "unknown option" 'unknown option "--bogus"' "$HEARTH" generate -m "$MODEL" --ids 1 --bogus
check_error "bad number" '--temp: expected a number' "$HEARTH" generate -m "$MODEL" --ids 1 --temp hot
check_error "bad dtype" 'not one of f32, f16, int8, int4' "$HEARTH" generate -m "$MODEL" --ids 1 --dtype q3
check_error "missing model folder" '/nonexistent/config.json' "$HEARTH" generate -m /nonexistent --ids 1
check_error "context overflow" 'max_ctx is 16' "$HEARTH" generate -m "$MODEL" --ids 1,2,3 -n 20 --max-ctx 16
check_error "out-of-vocabulary id" 'outside the vocabulary' "$HEARTH" generate -m "$MODEL" --ids 99999 -n 2
check_error "no chat template" 'tokenizer_config.json' "$HEARTH" generate -m "$MODEL" --prompt hi --chat
check_error "unknown command" 'unknown command' "$HEARTH" fly
check_error "truncated gguf" "$TMP/cut.gguf: tensor count 74 cannot fit in the" "$HEARTH" generate -m "$TMP/cut.gguf" --ids 1
check_error "gguf version" 'GGUF version 9 is not supported' "$HEARTH" perplexity -m "$TMP/v9.gguf" --windows "$FIX/pycoder-6m/eval_windows.safetensors"
check_error "convert type" 'GGUF type Q3_K cannot be written' "$HEARTH" convert -m "$FIX/pycoder-6m" -o "$TMP/x.gguf" --type q3_k
check_error "gguf chat without template" 'no chat_template' "$HEARTH" generate -m "$GGUF" --prompt hi --chat
# Structured output from the command line.
echo '{"type":"object","properties":{"lang":{"enum":["python","c"]},"lines":{"type":"integer","minimum":1,"maximum":50}},"required":["lang","lines"]}' > "$TMP/s.json"
out=$("$HEARTH" generate -m "$MODEL" --prompt "meta = " -n 60 --temp 0.9 --seed 4 --json-schema "$TMP/s.json")
python3 -c "import json,sys; o=json.loads(sys.argv[1]); assert o['lang'] in ('python','c') and 1<=o['lines']<=50 and len(o)==2" "$out" \
  && pass "generate --json-schema: $out" || failed "--json-schema: $out"
printf 'root ::= "x = " [0-9]{1,3} "\\n"\n' > "$TMP/g.gbnf"
out=$("$HEARTH" generate -m "$MODEL" --prompt "import os" -n 10 --temp 0 --grammar "$TMP/g.gbnf")
[[ "$out" =~ ^x\ =\ [0-9]{1,3}$ ]] && pass "generate --grammar: $out" || failed "--grammar: $out"
echo '{"type":"string","pattern":"a+"}' > "$TMP/bad.json"
check_error "unsupported schema keyword" "--json-schema $TMP/bad.json: json schema: \"pattern\" at # is not supported" \
  "$HEARTH" generate -m "$MODEL" --prompt x --json-schema "$TMP/bad.json"
echo 'root ::= "a" | oops' > "$TMP/bad.gbnf"
check_error "grammar error" "undefined rule oops" "$HEARTH" generate -m "$MODEL" --prompt x --grammar "$TMP/bad.gbnf"
rm -rf "$TMP"

echo "$fails failed"
[ $fails -eq 0 ]
