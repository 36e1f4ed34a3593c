"""Loads a MISP event with PyMISP and checks every attribute's type and category.

Usage: python3 load_misp.py EVENT.json
"""
import sys
from pymisp import MISPEvent
e = MISPEvent()
e.load_file(sys.argv[1])
assert e.attributes or e.objects, "an empty event"
for a in e.attributes + [a for o in e.objects for a in o.attributes]:
    assert a.type in e.describe_types["types"], a.type
    assert a.category in e.describe_types["category_type_mappings"], a.category
    assert a.type in e.describe_types["category_type_mappings"][a.category], (a.category, a.type)
print(len(e.attributes), len(e.objects), [t.name for t in e.tags])
