"""`cargo xtask bench sink`: what writing the file costs a verified download, on a cache hit.

Run by xtask with the local cloud's venv Python. Arguments: sdk_save_binary cloud mib rounds.

An image of `mib` MiB (made once, kept by name) is served from Glance's image cache (warmed
first) to, interleaved round by round so the machine's drift hits all alike: curl to
/dev/null and curl to a file (the difference is what writing the file costs curl), and the
SDK's sha512-verified download (sdk_save) as a stream whose bytes are dropped
(`into_stream`) and to a file (`to_path`, durable: fsynced before the rename). Each run is a
child process; CPU is its user + system time.

Target: `to_path` costs at most 1.15x the CPU of `into_stream` plus curl's write time,
taken round by round (the median of the per-round ratios is reported).
"""

import os
import statistics
import sys
import tempfile

import openstack

from benchlib import image, run

sdk_save, cloud = sys.argv[1:3]
mib, rounds = int(sys.argv[3]), int(sys.argv[4])
NAME = f"osrs-bench-sink-{mib}"

conn = openstack.connect(cloud=cloud)
glance = conn.image.get_endpoint().rstrip("/")
glance = glance[: -len("/v2")] if glance.endswith("/v2") else glance


img = image(conn, NAME, mib)
url = f"{glance}/v2/images/{img.id}/file"
out_dir = tempfile.mkdtemp(prefix="osrs-sink-")
out = os.path.join(out_dir, "image")


def curl(target):
    return ["curl", "-sSf", "-H", f"X-Auth-Token: {conn.session.get_token()}", "-o", target, url]


# Warm Glance's cache: the first complete download fills it, the second is served from it.
for _ in range(2):
    run(curl(os.devnull))

tools = {
    "curl to /dev/null": lambda: run(curl(os.devnull)),
    "curl to a file": lambda: run(curl(out)),
    "sdk into_stream": lambda: run([sdk_save, cloud, img.id, out], env=dict(os.environ, OSRS_SINK="stream")),
    "sdk to_path": lambda: run([sdk_save, cloud, img.id, out], env=dict(os.environ, OSRS_SINK="path")),
}
results = {name: [] for name in tools}
try:
    for r in range(rounds):
        for name, measure in tools.items():
            results[name].append(measure())
            if os.path.exists(out):
                os.remove(out)
        print(f"round {r + 1}/{rounds} done", file=sys.stderr)
finally:
    for f in os.listdir(out_dir):
        os.remove(os.path.join(out_dir, f))
    os.rmdir(out_dir)

print(f"\n{mib} MiB from Glance's cache, {rounds} interleaved rounds; medians (range)")
print("| tool | wall s | CPU s | peak RSS MiB |")
print("|---|---|---|---|")
for name, ms in results.items():
    walls, cpus = [m[0] for m in ms], [m[1] for m in ms]
    print(
        f"| {name} | {statistics.median(walls):.2f} ({min(walls):.2f}-{max(walls):.2f}) "
        f"| {statistics.median(cpus):.2f} ({min(cpus):.2f}-{max(cpus):.2f}) | {max(m[2] for m in ms):.0f} |"
    )
cpu = {name: [m[1] for m in ms] for name, ms in results.items()}
write = [max(0.0, f - n) for f, n in zip(cpu["curl to a file"], cpu["curl to /dev/null"])]
ratios = [p / (s + w) for p, s, w in zip(cpu["sdk to_path"], cpu["sdk into_stream"], write)]
extra = [p - s for p, s in zip(cpu["sdk to_path"], cpu["sdk into_stream"])]
verdict = "met" if statistics.median(ratios) <= 1.15 else "NOT met"
print(f"\ncurl's write time (CPU, to a file minus to /dev/null): median {statistics.median(write):.2f} s")
print(f"to_path's CPU over into_stream's: median +{statistics.median(extra):.2f} s")
print(
    f"to_path CPU / (into_stream CPU + curl's write): median {statistics.median(ratios):.2f}x "
    f"(range {min(ratios):.2f}-{max(ratios):.2f}); target <= 1.15x: {verdict}"
)
