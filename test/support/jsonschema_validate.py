"""Validates documents against a JSON Schema with Debian's python3-jsonschema (Draft 7), an
implementation that is not ours (the loader uses ajv). Reads {"schema": ..., "documents": {name: doc}}
as JSON on stdin and prints {name: [error messages]}; exits non-zero if the schema itself is invalid."""
import json
import sys

from jsonschema import Draft7Validator

request = json.load(sys.stdin)
Draft7Validator.check_schema(request["schema"])
validator = Draft7Validator(request["schema"])
result = {
    name: sorted(f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc))
    for name, doc in request["documents"].items()
}
json.dump(result, sys.stdout)
