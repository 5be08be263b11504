"""Deletes what the test suite and the benchmarks left in the local cloud: images
(hidden ones too, protected ones unprotected first) and metadef namespaces whose names
start with osrs- / osrs_ (every name the tests and benchmarks create does). Run by
`cargo xtask cloud purge`, with the cloud's clouds.yaml in the environment.
"""

import openstack

PREFIXES = ("osrs-", "osrs_")

conn = openstack.connect(cloud="local")
images = {}
for hidden in (False, True):
    for image in conn.image.images(is_hidden=hidden):
        if (image.name or "").startswith(PREFIXES):
            images[image.id] = image
for image in images.values():
    if image.is_protected:
        conn.image.update_image(image, is_protected=False)
    conn.image.delete_image(image, ignore_missing=True)
namespaces = [
    ns
    for ns in conn.image.metadef_namespaces()
    if (ns.namespace or "").startswith(PREFIXES)
]
for ns in namespaces:
    conn.image.delete_metadef_namespace(ns, ignore_missing=True)
left = sum(1 for _ in conn.image.images())
print(
    f"purged {len(images)} images and {len(namespaces)} metadef namespaces; "
    f"{left} images left"
)
