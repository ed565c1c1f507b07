"""Reads JSON lines on stdin with Python's json module, an independent parser, made strict: an object
that repeats a key is an error (JSON.parse, like most parsers, silently keeps the last one). Prints
one line per bad input line, `<line number>\t<reason>`, and exits 1 if there was any."""
import json
import sys


def refuse_duplicates(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f'duplicate key "{key}"')
        seen[key] = value
    return seen


bad = 0
for number, line in enumerate(sys.stdin, start=1):
    if not line.strip():
        continue
    try:
        json.loads(line, object_pairs_hook=refuse_duplicates)
    except ValueError as error:
        bad += 1
        print(f'{number}\t{error}')
sys.exit(1 if bad else 0)
