#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# validate.py SCHEMA FILE...: check each JSON FILE against SCHEMA (JSON
# Schema 2020-12, Debian's python3-jsonschema); print FILE: ok or the first
# error's path and message; exit 1 if any file fails.
import json
import sys

import jsonschema

schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
bad = 0
for path in sys.argv[2:]:
    errors = sorted(validator.iter_errors(json.load(open(path))), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        where = "/".join(str(p) for p in e.absolute_path) or "(top)"
        print(f"{path.rsplit('/', 1)[-1]}: {where}: {e.validator} failed")
        bad = 1
    else:
        print(f"{path.rsplit('/', 1)[-1]}: ok")
sys.exit(bad)
