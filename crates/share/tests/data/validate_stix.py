"""Validates a STIX 2.1 bundle with stix2-validator, strict: warnings are errors.

Usage: python3 validate_stix.py BUNDLE.json
"""
import sys
from stix2validator import validate_file, ValidationOptions
r = validate_file(sys.argv[1], ValidationOptions(strict=True, version="2.1"))
for o in r.object_results:
    for e in o.errors:
        print("ERROR", o.object_id, e)
    for w in o.warnings:
        print("WARNING", o.object_id, w)
sys.exit(0 if r.is_valid and not any(o.warnings for o in r.object_results) else 1)
