"""The reference client: Python requests + hashlib, md5 and sha512 of every chunk, in turn
(the path openstacksdk's download_image takes). Prints MiB/s.

Usage: python reference.py <base-url> <bytes>
"""

import hashlib
import sys
import time

import requests

base, size = sys.argv[1], int(sys.argv[2])
started = time.monotonic()
md5, sha512 = hashlib.md5(), hashlib.sha512()
got = 0
with requests.get(f"{base}/{size}", stream=True, timeout=60) as r:
    r.raise_for_status()
    for chunk in r.iter_content(chunk_size=1 << 20):
        md5.update(chunk)
        sha512.update(chunk)
        got += len(chunk)
assert got == size, (got, size)
print(f"{size / (1 << 20) / (time.monotonic() - started):.1f}")
