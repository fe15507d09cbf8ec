#!/usr/bin/env python3
"""Prints the raw requests wafbench.py would send for a GoTestWAF test set,
one JSON object per line: {"pid": ..., "raw": hex}. Used by the proxy's
tests to replay the corpus byte for byte. Usage:
    gotestwaf_requests.py WAFBENCH_DIR CORPUS_DIR TEST_SET_REGEX HOST:PORT
"""
import argparse
import json
import sys

sys.path.insert(0, sys.argv[1])
import wafbench  # noqa: E402

corpus, test_set, hostport = sys.argv[2], sys.argv[3], sys.argv[4]
args = argparse.Namespace(
    no_default_headers=False, header=None, user_agent=wafbench.DEFAULT_UA,
    graphql_path=None, test_set=[test_set], test_case=None, host_header="auto",
)
target = wafbench.Target("http://%s/" % hostport)
for p in wafbench.load_gotestwaf(corpus, target, args):
    if p.raw:
        print(json.dumps({"pid": p.pid, "raw": p.raw.hex()}))
