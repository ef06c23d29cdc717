#!/usr/bin/env python3
"""Runs the malformed-input corpus (make_cases.py) through a hearth command line and checks
each case: the exit status, and that the message names what is wrong. An error is one line on
stderr, "hearth: ..." (warnings may come before it, each "hearth: warning: ..."); nothing may
crash, hang (60 s per case) or fail without saying so.

  run_cases.py CASES_DIR COMMAND...   (e.g. run_cases.py /tmp/cases build/hearth, or
                                      run_cases.py /tmp/cases node web/bin/hearth.mjs)
"""
import json
import os
import subprocess
import sys
import time

cases_dir = sys.argv[1]
# The cases run from CASES_DIR: command words that are paths become absolute.
command = [os.path.abspath(a) if os.path.exists(a) else a for a in sys.argv[2:]]
manifest = json.load(open(os.path.join(cases_dir, "manifest.json")))
start = time.time()
failed = 0
for c in manifest:
    t0 = time.time()
    try:
        p = subprocess.run(command + c["args"], cwd=cases_dir, capture_output=True, text=True, errors="replace", timeout=60)
        rc, err = p.returncode, p.stderr
    except subprocess.TimeoutExpired:
        rc, err = "timeout", ""
    lines = [l for l in err.splitlines() if l.strip()]
    if c["status"] == 2:
        last = lines[-1] if lines else ""
        ok = (rc == 2 and last.startswith("hearth") and c["expect"] in last
              and all(l.startswith("hearth") for l in lines))
    else:
        ok = rc == c["status"] and c["expect"] in err
    dt = time.time() - t0
    if ok:
        print("ok   %-32s (%.2f s)" % (c["case"], dt))
    else:
        failed += 1
        print("FAIL %-32s rc %s, want %s and \"%s\"\n     stderr: %s" % (c["case"], rc, c["status"], c["expect"], err.strip()[-400:]))
print("%d of %d cases failed (%.1f s)" % (failed, len(manifest), time.time() - start))
sys.exit(1 if failed else 0)
