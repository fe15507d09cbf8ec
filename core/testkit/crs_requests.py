#!/usr/bin/env python3
"""Prints the raw requests wafbench.py would send for the CRS regression tests
(go-ftw YAML), one JSON object per line:
{"pid": ..., "set": ..., "rule": ..., "cls": "attack"|"benign"|"unscored", "raw": hex}.
Usage:
    crs_requests.py WAFBENCH_DIR CORPUS_DIR TEST_SET_REGEX
"""
import argparse
import json
import sys

sys.path.insert(0, sys.argv[1])
import wafbench  # noqa: E402

corpus, test_set = sys.argv[2], sys.argv[3]
args = argparse.Namespace(
    no_default_headers=False, header=None, user_agent=wafbench.DEFAULT_UA,
    graphql_path=None, test_set=[test_set], test_case=None, host_header="auto",
    crs_rules=None, drop_header=None,
)
target = wafbench.Target("http://localhost/")
for p in wafbench.load_crs(corpus, target, args):
    if p.raw and not p.skip:
        print(json.dumps({"pid": p.pid, "set": p.test_set, "rule": p.test_case,
                          "cls": p.cls, "raw": p.raw.hex()}))
