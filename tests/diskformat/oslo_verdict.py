"""Glance's inspector (oslo.utils format_inspector) on each file given: one JSON line each.

Reads the file in 64 KiB chunks through InspectWrapper, as Glance reads an upload, then
decides as glance/location.py does: ISO+GPT is the ISO, several formats at once are refused,
and the chosen inspector's safety checks run. Prints the format ("null" when refused for
several formats), the virtual size, and the names of the failed checks ("complete" when the
inspector could not finish, "single_format" for several formats).
"""
import json
import sys

from oslo_utils.imageutils import format_inspector as fi


def verdict(path):
    out = {"file": path, "format": None, "virtual_size": 0, "failures": []}
    with open(path, "rb") as f:
        wrapper = fi.InspectWrapper(f)
        while wrapper.read(65536):
            pass
        wrapper.close()
    try:
        matches = wrapper.formats
        if sorted(str(i) for i in matches) == ["gpt", "iso"]:
            inspector = [i for i in matches if str(i) == "iso"][0]
        else:
            inspector = wrapper.format
    except fi.ImageFormatError as e:
        out["failures"] = ["single_format"]
        out["error"] = str(e)
        return out
    out["format"] = str(inspector)
    out["virtual_size"] = inspector.virtual_size
    try:
        inspector.safety_check()
    except fi.SafetyCheckFailed as e:
        out["failures"] = sorted(e.failures)
    except fi.ImageFormatError as e:
        out["failures"] = ["complete"]
        out["error"] = str(e)
    return out


for p in sys.argv[1:]:
    print(json.dumps(verdict(p)))
