"""openstacksdk 4.22 doing what `stack` does, against the same cloud: upload a file
(create_image, wait), download it to a file twice (download_image, output=, stream=True: its
best path), list every image. Prints JSON seconds.

Usage: python openstacksdk_bench.py <cloud> <file> <output>
"""

import json
import os
import sys
import time

import openstack

cloud, path, out = sys.argv[1:4]
conn = openstack.connect(cloud=cloud)
list(conn.image.images())  # authenticate and discover before timing

t = time.monotonic()
img = conn.image.create_image(
    name=f"osrs-bench-sdk-{os.getpid()}",
    filename=path,
    disk_format="raw",
    container_format="bare",
    wait=True,
    allow_duplicates=True,
)
upload = time.monotonic() - t

t = time.monotonic()
with open(out, "wb") as f:
    conn.image.download_image(img, output=f, stream=True)
download = time.monotonic() - t
os.remove(out)

t = time.monotonic()
with open(out, "wb") as f:
    conn.image.download_image(img, output=f, stream=True)
download_again = time.monotonic() - t

t = time.monotonic()
for _ in range(5):
    n = len(list(conn.image.images()))
listing = (time.monotonic() - t) / 5

conn.image.delete_image(img)
print(
    json.dumps(
        {
            "upload": upload,
            "download": download,
            "download_again": download_again,
            "list": listing,
            "images": n,
        }
    )
)
