"""Parses Prometheus text exposition from stdin with the Prometheus project's own Python client
(Debian's python3-prometheus-client), an implementation that is not ours, and prints the metric
families as JSON: [{"name", "type", "samples": [{"name", "labels", "value"}]}]. A text it cannot
parse makes it exit non-zero with the parser's error."""
import json
import math
import sys

from prometheus_client.parser import text_string_to_metric_families

families = []
for family in text_string_to_metric_families(sys.stdin.read()):
    families.append({
        "name": family.name,
        "type": family.type,
        "samples": [
            {"name": s.name, "labels": s.labels, "value": s.value if math.isfinite(s.value) else str(s.value)}
            for s in family.samples
        ],
    })
json.dump(families, sys.stdout)
