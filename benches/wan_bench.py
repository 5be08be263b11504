"""`cargo xtask bench wan`: a verified download over a long, thin link, by connections.

Run by xtask with the local cloud's venv Python. Arguments: sdk_save_binary
slowlink_binary cloud mib rtt_ms cap_mib connections...

An image of `mib` MiB (made once, kept by name) is fetched through `slowlink` (a TCP relay
adding the round trip and capping each connection, benches/src/bin/slowlink.rs) by:
curl (one stream, the floor), the SDK's verified `to_path` (sdk_save) with each number of
connections, and `aria2c -x N -s N` with the same N (which verifies nothing). Each run is a
child process measured with GNU time and wait4: wall time, CPU, peak RSS. The table gives
each run's speedup over its own tool's one stream, and ours against aria2c's at the same N.
Then, on plain loopback (no link), the default setting beside one connection and beside one
connection again (two equal runs: the box's noise), OSRS_WAN_LOOPBACK_ROUNDS (default 15)
rounds in rotating order, with the connections the default used (sdk_save prints them).
Last, the targets: at 4 and 8 connections at least 95% of aria2c's speedup, peak RSS under
64 MiB at 8, and on loopback the default no slower than one connection (median per-round
ratio <= 1.05).
"""

import os
import statistics
import subprocess
import sys
import tempfile

import openstack

from benchlib import image, run, run_output

sdk_save, slowlink, cloud = sys.argv[1:4]
mib, rtt_ms, cap_mib = (int(x) for x in sys.argv[4:7])
connections = [int(n) for n in sys.argv[7:]]
loopback_rounds = int(os.environ.get("OSRS_WAN_LOOPBACK_ROUNDS", "15"))
NAME = f"osrs-bench-wan-{mib}"
SPAWNED = "sdk to_path, spawned task"

conn = openstack.connect(cloud=cloud)
glance = conn.image.get_endpoint().rstrip("/")
glance = glance[: -len("/v2")] if glance.endswith("/v2") else glance
upstream = glance.split("://", 1)[1]


def used(said):
    """The connections sdk_save says its download used."""
    return int(said.split("connections", 1)[1].split()[0])


img = image(conn, NAME, mib)
link = subprocess.Popen([slowlink, upstream, str(rtt_ms), str(cap_mib)], stdout=subprocess.PIPE)
addr = link.stdout.readline().decode().split()[-1]
url = f"http://{addr}/v2/images/{img.id}/file"
token = conn.session.get_token()
out_dir = tempfile.mkdtemp(prefix="osrs-wan-")
out = os.path.join(out_dir, "image")
rows = []
try:
    curl = run(["curl", "-sSf", "-H", f"X-Auth-Token: {token}", "-o", out, url])
    rows.append(("curl", 1, curl))
    os.remove(out)
    env = dict(os.environ, OSRS_IMAGE_ENDPOINT=f"http://{addr}")
    measured, said = run_output([sdk_save, cloud, img.id, out], env=env)
    rows.append(("sdk to_path (default)", f"auto: {used(said)}", measured))
    os.remove(out)
    for n in connections:
        env = dict(os.environ, OSRS_CONNECTIONS=str(n), OSRS_IMAGE_ENDPOINT=f"http://{addr}")
        rows.append(("sdk to_path", n, run([sdk_save, cloud, img.id, out], env=env)))
        os.remove(out)
        if n == 1:
            # The same, run as a spawned task rather than as block_on's future (README: long
            # downloads and the runtime).
            env["OSRS_SPAWN"] = "1"
            rows.append((SPAWNED, n, run([sdk_save, cloud, img.id, out], env=env)))
            os.remove(out)
        aria = [
            "aria2c", "-q", "-x", str(n), "-s", str(n), "--allow-overwrite=true",
            "--file-allocation=none", "--auto-file-renaming=false",
            f"--header=X-Auth-Token: {token}", "-d", out_dir, "-o", "image", url,
        ]
        rows.append(("aria2c", n, run(aria)))
        os.remove(out)
    # Plain loopback, no link: the default (adaptive) beside one connection, and one
    # connection again (the same thing twice: how far apart two equal runs land on this box),
    # the order rotated each round so drift hits all three alike.
    arms = ["default", "1", "1 again"]
    loopback = {arm: [] for arm in arms}
    default_used = []
    for r in range(loopback_rounds):
        for which in arms[r % 3 :] + arms[: r % 3]:
            env = dict(os.environ)
            env.pop("OSRS_IMAGE_ENDPOINT", None)
            if which != "default":
                env["OSRS_CONNECTIONS"] = "1"
            measured, said = run_output([sdk_save, cloud, img.id, out], env=env)
            loopback[which].append(measured)
            if which == "default":
                default_used.append(used(said))
            os.remove(out)
finally:
    link.kill()
    for f in os.listdir(out_dir):
        os.remove(os.path.join(out_dir, f))
    os.rmdir(out_dir)

print(f"\n{mib} MiB through a {rtt_ms} ms round trip, {cap_mib} MiB/s per connection")
print("| tool | connections | wall s | CPU s | peak RSS MiB | speedup | of aria2c's |")
print("|---|---|---|---|---|---|---|")
one = {"curl": curl[0], "aria2c": curl[0], "sdk to_path": None, "sdk to_path (default)": curl[0], SPAWNED: curl[0]}
for tool, n, (wall, cpu, rss) in rows:
    if tool == "sdk to_path" and n == 1:
        one[tool] = wall
    base = one[tool] or curl[0]
    speedup = base / wall
    theirs = next((w for t, m, (w, _, _) in rows if t == "aria2c" and m == n), None)
    versus = f"{(base / wall) / (curl[0] / theirs):.0%}" if tool == "sdk to_path" and theirs else ""
    print(f"| {tool} | {n} | {wall:.1f} | {cpu:.2f} | {rss:.0f} | {speedup:.2f}x | {versus} |")

ours = {n: w for t, n, (w, _, _) in rows if t == "sdk to_path"}
theirs = {n: w for t, n, (w, _, _) in rows if t == "aria2c"}
rss8 = next((r for t, n, (_, _, r) in rows if t == "sdk to_path" and n == 8), None)
print("\ntargets:")
for n in (4, 8):
    if n in ours and n in theirs and 1 in ours:
        share = (ours[1] / ours[n]) / (curl[0] / theirs[n])
        print(f"  {n} connections: {share:.0%} of aria2c's speedup (target >= 95%: {'met' if share >= 0.95 else 'NOT met'})")
if rss8 is not None:
    print(f"  peak RSS at 8 connections: {rss8:.0f} MiB (target < 64: {'met' if rss8 < 64 else 'NOT met'})")
cpu = {t: c for t, n, (_, c, _) in rows if n == 1 and t in ("sdk to_path", SPAWNED)}
if len(cpu) == 2:
    print(
        f"  1 connection as a spawned task: {cpu[SPAWNED]:.2f} CPU-s, awaited in block_on "
        f"{cpu['sdk to_path']:.2f} ({cpu[SPAWNED] / cpu['sdk to_path']:.2f}x; no target, one run each)"
    )
ratios = [d[0] / o[0] for d, o in zip(loopback["default"], loopback["1"])]
same = [a[0] / o[0] for a, o in zip(loopback["1 again"], loopback["1"])]
if ratios:
    med = statistics.median(ratios)
    walls = {k: statistics.median(m[0] for m in v) for k, v in loopback.items()}
    print(
        f"  plain loopback, {loopback_rounds} rounds: default {walls['default']:.2f} s, 1 connection "
        f"{walls['1']:.2f} s (medians); default/1 per round: median {med:.3f}x "
        f"(range {min(ratios):.3f}-{max(ratios):.3f}) (target <= 1.05x: {'met' if med <= 1.05 else 'NOT met'})"
    )
    print(
        f"    the same run twice (1 connection again / 1 connection): median "
        f"{statistics.median(same):.3f}x (range {min(same):.3f}-{max(same):.3f}): this box's noise"
    )
    print(
        f"    connections the default used: {', '.join(map(str, default_used))} "
        f"(1 = the same single stream as connections(1))"
    )
