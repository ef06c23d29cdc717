#!/usr/bin/env bash
# hearth serve through a real HTTP client (curl): /v1/models, completions and chat completions
# (plain and streamed as server-sent events) that equal `hearth generate`, prefix reuse across
# requests, response_format json_schema, adapters by model name, 429 when the queue is full,
# cancellation mid-stream, malformed requests, and a clean stop on SIGTERM.
set -u
HEARTH=$1
FIX=$2
MODEL=$(cd "$3" && pwd)
start=$(date +%s)
fails=0
pass() { echo "ok   $1"; }
failed() { echo "FAIL $1"; fails=$((fails + 1)); }
command -v curl >/dev/null || { echo "SKIP: curl is not installed (scripts/setup.sh installs it)"; exit 0; }
"$HEARTH" serve 2>&1 | grep -q "not available in this build" && { echo "SKIP: this hearth was built without cpp-httplib"; exit 0; }

TMP=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null; rm -rf "$TMP"' EXIT
# pycoder-6m with a chat template (the model has none of its own).
mkdir "$TMP/m"
for f in config.json generation_config.json model.safetensors tokenizer.json; do ln -s "$MODEL/$f" "$TMP/m/$f"; done
python3 - "$MODEL/tokenizer_config.json" "$TMP/m/tokenizer_config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["chat_template"] = "{% for m in messages %}<{{ m['role'] }}>\n{{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}<assistant>\n{% endif %}"
json.dump(c, open(sys.argv[2], "w"))
PY

serve() {  # serve [options...]: starts the server, sets SERVER (pid) and URL
  "$HEARTH" serve -m "$TMP/m" --port 0 --max-ctx 4096 --threads 1 "$@" >"$TMP/out" 2>"$TMP/err" &
  SERVER=$!
  for _ in $(seq 100); do
    grep -q "listening on" "$TMP/out" 2>/dev/null && break
    kill -0 $SERVER 2>/dev/null || break
    sleep 0.1
  done
  URL=$(sed -n 's/^listening on //p' "$TMP/out")
}
post() { curl -s -w '\n%{http_code}' -H 'Content-Type: application/json' -d "$2" "$URL$1"; }
json() { python3 -c "import json,sys; d=json.loads(sys.stdin.read()); print($1)"; }

serve --adapter "bad=$TMP/nowhere"
grep -q "^hearth: .*nowhere" "$TMP/err" && ! kill -0 $SERVER 2>/dev/null && pass "a missing adapter folder stops the start: $(cat "$TMP/err")" \
  || failed "bad adapter at start: $(cat "$TMP/err")"
serve --queue 0 --adapter "qv=$FIX/qwen2-tiny/lora-qv"
[[ "$URL" == http://127.0.0.1:* ]] && pass "listens on loopback ($URL)" || failed "no address: $(cat "$TMP/out" "$TMP/err")"

out=$(curl -s "$URL/v1/models" | json "[m['id'] for m in d['data']]")
[ "$out" = "['m', 'qv']" ] && pass "/v1/models lists the model and the adapter" || failed "/v1/models: $out"

want=$("$HEARTH" generate -m "$MODEL" --prompt "def fibonacci(n):" -n 24 --temp 0 2>/dev/null)
body='{"model":"m","prompt":"def fibonacci(n):","max_tokens":24,"temperature":0}'
out=$(post /v1/completions "$body")
text=$(echo "$out" | head -n -1 | json "d['choices'][0]['text']")
[ "$(echo "$out" | tail -1)" = 200 ] && [ "$text" = "$want" ] && pass "completions equal hearth generate" || failed "completions: $out // $want"
usage=$(echo "$out" | head -n -1 | json "d['usage']['prompt_tokens'], d['usage']['completion_tokens'], d['choices'][0]['finish_reason']")
[ "$usage" = "8 24 length" ] && pass "usage and finish_reason ($usage)" || failed "usage: $usage"

stream=$(curl -sN -H 'Content-Type: application/json' -d "${body%\}},\"stream\":true}" "$URL/v1/completions")
joined=$(echo "$stream" | python3 -c "
import json,sys
ev=[l[6:] for l in sys.stdin.read().split('\n') if l.startswith('data: ')]
assert ev[-1]=='[DONE]', ev[-1]
print(''.join(json.loads(e)['choices'][0]['text'] for e in ev[:-1]), end='')")
[ "$joined" = "$want" ] && pass "streamed completions (SSE, [DONE]) give the same text" || failed "stream: $stream"
grep -q "cmpl-2 8 prompt tokens (7 reused)" "$TMP/err" && pass "the repeated prompt reused the KV cache" || failed "no reuse: $(tail -2 "$TMP/err")"

# The same prompt through the adapter (its q/v shapes fit this model): other text, the model named.
out=$(post /v1/completions "${body/\"m\"/\"qv\"}")
[ "$(echo "$out" | head -n -1 | json "d['model']")" = qv ] && [ "$(echo "$out" | head -n -1 | json "d['choices'][0]['text']")" != "$want" ] \
  && pass "model \"qv\" runs the adapter" || failed "adapter by model name: $out"
grep -q "cmpl-3 8 prompt tokens (0 reused)" "$TMP/err" && pass "no reuse across adapters" || failed "reuse across adapters: $(tail -1 "$TMP/err")"
chat='{"messages":[{"role":"system","content":"# python"},{"role":"user","content":"def add(a, b):"}],"max_tokens":16,"temperature":0}'
out=$(post /v1/chat/completions "$chat")
reply=$(echo "$out" | head -n -1 | json "d['choices'][0]['message']['content']")
prompt="$(printf '<system>\n# python\n<user>\ndef add(a, b):\n<assistant>')"$'\n'
want=$("$HEARTH" generate -m "$TMP/m" --prompt "$prompt" -n 16 --temp 0 2>/dev/null)
[ -n "$reply" ] && [ "$reply" = "$want" ] && pass "chat completion equals generate on the rendered template" || failed "chat: $out // $want"
sse=$(curl -sN -H 'Content-Type: application/json' -d "${chat%\}},\"stream\":true}" "$URL/v1/chat/completions" | python3 -c "
import json,sys
ev=[l[6:] for l in sys.stdin.read().split('\n') if l.startswith('data: ')]
ch=[json.loads(e) for e in ev[:-1]]
assert ch[0]['choices'][0]['delta']['role']=='assistant' and ch[-1]['choices'][0]['finish_reason'] in ('stop','length')
print(''.join(c['choices'][0]['delta'].get('content','') for c in ch), end='')")
[ "$sse" = "$reply" ] && pass "streamed chat: role chunk, deltas, finish_reason" || failed "chat stream: $sse"

schema='{"type":"object","properties":{"name":{"type":"string","maxLength":10},"n":{"type":"integer","minimum":0,"maximum":9}},"required":["name","n"]}'
out=$(post /v1/chat/completions "{\"messages\":[{\"role\":\"user\",\"content\":\"config =\"}],\"max_tokens\":100,\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":$schema}}}")
obj=$(echo "$out" | head -n -1 | json "json.loads(d['choices'][0]['message']['content'])" 2>&1)
echo "$obj" | python3 -c "import sys,ast; o=ast.literal_eval(sys.stdin.read()); assert set(o)=={'name','n'} and 0<=o['n']<=9 and len(o['name'])<=10" 2>/dev/null \
  && pass "response_format json_schema: $obj" || failed "json_schema: $out"

# Malformed requests: 400 (404 for an unknown model) with an error object naming the field.
check_err() {  # path body status pattern
  local out; out=$(post "$1" "$2")
  local code; code=$(echo "$out" | tail -1)
  local msg; msg=$(echo "$out" | head -n -1 | json "d['error']['message']" 2>/dev/null)
  [ "$code" = "$3" ] && [[ "$msg" == *"$4"* ]] && pass "$3 for $2 ($msg)" || failed "$2: $out"
}
check_err /v1/chat/completions '{"messages": [' 400 "request body"
check_err /v1/chat/completions '{"messages":[]}' 400 "messages"
check_err /v1/chat/completions '{"messages":[{"role":"wizard","content":"x"}]}' 400 "messages[0].role"
check_err /v1/chat/completions '{"messages":[{"role":"user","content":"x"}],"temperature":"hot"}' 400 "temperature"
check_err /v1/chat/completions '{"messages":[{"role":"user","content":"x"}],"n":3}' 400 "n:"
check_err /v1/chat/completions '{"model":"gpt-9","messages":[{"role":"user","content":"x"}]}' 404 "gpt-9"
check_err /v1/completions '{"prompt":"x","response_format":{"type":"json_schema","schema":{"type":"string","pattern":"a+"}}}' 400 "pattern"
check_err /v1/completions '{"prompt":"x","max_tokens":5000}' 400 "max_ctx"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/nothing")
[ "$code" = 404 ] && pass "unknown path: 404" || failed "unknown path: $code"

# A long stream, cancelled by the client after half a second; the server stays free.
long='{"prompt":"import os\n","max_tokens":3000,"temperature":0.8,"seed":1,"ignore_eos":true,"stream":true}'
curl -sN --max-time 0.5 -H 'Content-Type: application/json' -d "$long" "$URL/v1/completions" >"$TMP/cut" 2>/dev/null &
CURL=$!
sleep 0.2
out=$(post /v1/completions '{"prompt":"x","max_tokens":2}')
[ "$(echo "$out" | tail -1)" = 429 ] && [[ "$out" == *busy* ]] && pass "--queue 0 while busy: 429" || failed "429: $out"
wait $CURL
for _ in $(seq 50); do grep -q "cancelled by the client" "$TMP/err" && break; sleep 0.1; done
n=$(sed -n 's/.*cancelled by the client after \([0-9]*\) tokens/\1/p' "$TMP/err")
[ -n "$n" ] && [ "$n" -lt 3000 ] && grep -q "^data: " "$TMP/cut" && pass "cancelled mid-stream after $n of 3000 tokens" || failed "cancel: $(tail -3 "$TMP/err")"
out=$(post /v1/completions '{"prompt":"x","max_tokens":2}')
[ "$(echo "$out" | tail -1)" = 200 ] && pass "the next request is served" || failed "after cancel: $out"

kill -TERM $SERVER
for _ in $(seq 50); do kill -0 $SERVER 2>/dev/null || break; sleep 0.1; done
! kill -0 $SERVER 2>/dev/null && grep -q "stopped" "$TMP/err" && pass "SIGTERM stops the server" || failed "still running after SIGTERM"

echo "serve_test: $(( $(date +%s) - start )) s"
[ $fails -eq 0 ] && echo "all passed" || echo "$fails failed"
[ $fails -eq 0 ]
