"""Test helper: what nbformat itself writes for each notebook, to compare Kiln's export with.

Reads a JSON list of {"original": text, "ours": text, "upgrade": bool} on stdin and writes a JSON
list of {"rewrite": text, "original_errors": [...], "our_errors": [...]}. With "upgrade", an nbformat
2 or 3 original is read as nbformat 4 (nbformat's converter). nbformat gives 4.5 cells that lack an
id (or repeat one, or were upgraded) a random id on read; those cells take the id Kiln chose
instead, so the two outputs can be compared byte for byte.
"""
import json
import sys
import warnings

import nbformat
from nbformat.validator import iter_validate

warnings.simplefilter("ignore")


def errors(nb_dict):
    return [str(error.message) for error in iter_validate(nb_dict)]


results = []
for job in json.load(sys.stdin):
    raw = json.loads(job["original"])
    ours = json.loads(job["ours"])
    if job.get("upgrade"):
        nb = nbformat.reads(job["original"], as_version=4)
        for index, cell in enumerate(nb.cells):
            cell["id"] = ours["cells"][index]["id"]
        raw = json.loads(nbformat.writes(nb))
    else:
        nb = nbformat.reads(job["original"], as_version=nbformat.NO_CONVERT)
    if not job.get("upgrade") and (nb.nbformat, nb.nbformat_minor) >= (4, 5):
        seen = set()
        for index, cell in enumerate(raw["cells"]):
            cell_id = cell.get("id")
            if cell_id is None or cell_id in seen:
                nb.cells[index]["id"] = ours["cells"][index]["id"]
            if cell_id is not None:
                seen.add(cell_id)
    text = nbformat.writes(nb)
    if not text.endswith("\n"):
        text += "\n"
    results.append({"rewrite": text, "original_errors": errors(raw), "our_errors": errors(ours)})
json.dump(results, sys.stdout)
