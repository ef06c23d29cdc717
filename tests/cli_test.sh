#!/usr/bin/env bash
# The hearth command as a user calls it: reference greedy ids through --print-ids, text
# prompts, perplexity's last line, tokenize, one-line errors with exit status 2, --help and
# --version, repeated --stop, --stats, --chat-template, and the chat loop (commands, the plain
# format, Ctrl-C, the exit status after a failed turn).
set -u
HEARTH=$1
FIX=$2
MODEL=$3
SRC=$(cd "$(dirname "$0")/.." && pwd)
start=$(date +%s.%N)
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
check_error "gguf chat without template" '(tokenizer metadata) has no chat template: choose one with --chat-template' "$HEARTH" generate -m "$GGUF" --prompt hi --chat
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

check_error "unknown chat template" 'not a built-in format (chatml, llama2, llama3, qwen3, plain)' "$HEARTH" generate -m "$MODEL" --prompt hi --chat --chat-template vicuna
check_error "chat template file that does not parse" 'chat template line 1' "$HEARTH" generate -m "$MODEL" --prompt hi --chat --chat-template <(printf '{%% for x in %%}')

# --help on every command: on stdout, exit 0, and every option the command's source accepts is
# described in it.
# train and finetune share cmd_train.cpp: each is read from its own function and the options
# they share.
command_source() {
  case $1 in
    generate|chat) cat "$SRC/cli/cmd_$1.cpp" "$SRC/cli/common.cpp" ;;
    random-checkpoint) cat "$SRC/cli/cmd_random.cpp" ;;
    bench-train) cat "$SRC/cli/cmd_bench_train.cpp" ;;
    train|finetune) awk -v f="int cmd_$1(" 'index($0, "std::set<std::string> run_value_options()") == 1 || index($0, f) == 1 {on = 1}
                      on {print} on && /^}/ {on = 0}' "$SRC/cli/cmd_train.cpp" ;;
    *) cat "$SRC/cli/cmd_$1.cpp" ;;
  esac
}
for cmd in generate chat perplexity bench tokenize random-checkpoint convert train finetune bench-train pack serve; do
  help=$("$HEARTH" $cmd --help 2>/dev/null); rc=$?
  missing=""
  for opt in $(command_source $cmd | grep -o '"--[a-z][a-z0-9-]*"' | tr -d '"' | grep -vx -- --help | sort -u); do
    [[ "$help" == *"$opt"* ]] || missing="$missing $opt"
  done
  if [ $rc -eq 0 ] && [[ "$help" == "usage: hearth $cmd"* ]] && [ -z "$missing" ]; then pass "$cmd --help describes every option"; else failed "$cmd --help (rc $rc):$missing"; fi
done
[[ "$("$HEARTH" --version)" =~ ^hearth\ [0-9]+\.[0-9]+\.[0-9]+$ ]] && pass "--version" || failed "--version: $("$HEARTH" --version)"

# Every --stop applies: the text ends before whichever stop string comes first.
full=$("$HEARTH" generate -m "$MODEL" --prompt "import os" -n 48 --temp 0)
early=$(python3 -c "import sys;t=sys.argv[1];print(t[12:16])" "$full")
late=$(python3 -c "import sys;t=sys.argv[1];print(t[30:34])" "$full")
want=$(python3 -c "import sys;t,e=sys.argv[1],sys.argv[2];print(t[:t.find(e)])" "$full" "$early")
out=$("$HEARTH" generate -m "$MODEL" --prompt "import os" -n 48 --temp 0 --stop "$early" --stop "$late")
[ "$out" = "$want" ] && pass "repeated --stop: every stop string applies" || failed "repeated --stop: got '$out', want '$want'"

err=$("$HEARTH" generate -m "$MODEL" --ids 1,2,3 -n 8 --temp 0 --stats 2>&1 >/dev/null)
[[ "$err" =~ ^prefill:\ 3\ tokens\ in\ [0-9.]+\ ms,\ decode:\ 8\ tokens\ in\ [0-9.]+\ ms\ \([0-9.]+\ tok/s\)$ ]] && pass "generate --stats" || failed "generate --stats: $err"

# --chat-template NAME: the prompt in that format, as if written out by hand.
a=$("$HEARTH" generate -m "$MODEL" --chat --chat-template chatml --prompt "hi" -n 8 --temp 0 --print-ids | tail -1)
b=$("$HEARTH" generate -m "$MODEL" --prompt $'<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n' -n 8 --temp 0 --print-ids | tail -1)
[ "$a" = "$b" ] && pass "generate --chat --chat-template chatml" || failed "--chat-template chatml: $a vs $b"

# A prompt longer than max_position_embeddings (2048) warns.
long=$(python3 -c "print(','.join(['17']*2100))")
err=$("$HEARTH" generate -m "$MODEL" --ids "$long" -n 1 --max-ctx 2200 2>&1 >/dev/null)
[[ "$err" == *"more than the model's max_position_embeddings (2048)"* ]] && pass "a prompt past max_position_embeddings warns" || failed "long prompt: $err"

# chat: the plain format without a template (said at the start), /help, unknown commands not
# sent, /reset confirmed.
out=$(printf 'def f():\n/help\n/bogus\n/reset\n/quit\n' | "$HEARTH" chat -m "$MODEL" -n 4 --temp 0 2>&1); rc=$?
if [ $rc -eq 0 ] && [[ "$out" == *'using a plain "User: ... / Assistant: ..." transcript'* ]] && [[ "$out" == *"/adapter DIR [SCALE]"* ]] \
   && [[ "$out" == *"unknown command /bogus"* ]] && [[ "$out" == *"conversation cleared"* ]] && [ "$(echo "$out" | grep -c 'prompt tokens prefilled')" -eq 1 ]; then
  pass "chat: plain format, /help, unknown /commands, /reset"
else failed "chat commands (rc $rc): $out"; fi
# chat with speculative decoding: greedy replies the same as without it.
a=$(printf 'def f():\nreturn\n' | "$HEARTH" chat -m "$MODEL" -n 24 --temp 0 2>/dev/null)
b=$(printf 'def f():\nreturn\n' | "$HEARTH" chat -m "$MODEL" -n 24 --temp 0 --draft prompt-lookup --draft-k 3 2>/dev/null)
[ ${#a} -gt 10 ] && [ "$a" == "$b" ] && pass "chat --draft prompt-lookup: the same greedy replies" || failed "chat --draft: '$a' vs '$b'"
out=$(printf 'def f():\n' | "$HEARTH" chat -m "$MODEL" -n 100 --max-ctx 16 2>&1); rc=$?
[ $rc -eq 2 ] && [[ "$out" == *"max_ctx is 16"* ]] && pass "chat exits 2 after a failed turn" || failed "chat after a failed turn (rc $rc): $out"

# Ctrl-C stops the reply, not the session: the next command still runs.
d=$(mktemp -d); mkfifo "$d/in"
"$HEARTH" chat -m "$MODEL" -n 1900 --max-ctx 2048 --temp 0.8 --seed 1 < "$d/in" > "$d/out" 2> "$d/err" &
pid=$!
exec 7>"$d/in"
echo "def f():" >&7
for i in $(seq 100); do [ "$(wc -c < "$d/out")" -gt 40 ] && break; sleep 0.1; done
kill -INT $pid; sleep 0.3
kill -INT $pid; sleep 0.3   # at the prompt: also not the end
echo "/reset" >&7; echo "/quit" >&7; exec 7>&-
wait $pid; rc=$?
err=$(cat "$d/err")
if [ $rc -eq 0 ] && [[ "$err" == *"[interrupted]"* ]] && [[ "$err" == *"conversation cleared"* ]] && [[ "$err" != *" 1900 generated"* ]]; then
  pass "Ctrl-C stops the reply, not the session"
else failed "Ctrl-C (rc $rc): $err"; fi
rm -rf "$d"

echo "$fails failed ($(python3 -c "print(f'{$(date +%s.%N) - $start:.1f}')") s)"
[ $fails -eq 0 ]
