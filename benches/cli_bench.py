"""`cargo xtask bench cli`: osrs beside `openstack` (python-openstackclient) and curl.

Run by xtask with the local cloud's venv Python (openstacksdk and the `openstack` command
come with it). Arguments: osrs_binary openstack_binary sdk_save_binary cloud rounds mib.

The same operations, interleaved round by round (osrs, openstack, curl, then the next
round), so the machine's drift hits every tool alike. `image save` also runs `sdk_save`
(benches/src/bin/sdk_save.rs): the SDK's own verified download, with no command line. Each run is a child process measured
with wait4: wall time, CPU (user + system) and peak RSS. Reported as medians with their
range, and as ratios against `openstack` and curl from the same rounds.
"""

import os
import statistics
import sys
import tempfile

import openstack

from benchlib import run

osrs, openstack_cli, sdk_save, cloud = sys.argv[1:5]
rounds, mib = int(sys.argv[5]), int(sys.argv[6])
TAG = "osrs-bench-list"
LIST_SIZE = 2001

conn = openstack.connect(cloud=cloud)
glance = conn.image.get_endpoint().rstrip("/")
glance = glance[: -len("/v2")] if glance.endswith("/v2") else glance


def token():
    return conn.session.get_token()


def ensure_list_images():
    have = [i.id for i in conn.image.images(tag=TAG)]
    for n in range(len(have), LIST_SIZE):
        conn.image.create_image(name=f"osrs-bench-list-{n}", disk_format="raw", container_format="bare", tags=[TAG])
    return [i.id for i in conn.image.images(tag=TAG)]


def curl(*args):
    return ["curl", "-sSf", "-H", f"X-Auth-Token: {token()}", *args]


def median_range(xs):
    return statistics.median(xs), min(xs), max(xs)


results = {}


def record(op, tool, m):
    results.setdefault(op, {}).setdefault(tool, []).append(m)


def main():
    env = dict(os.environ, OS_CLOUD=cloud)
    ids = ensure_list_images()
    assert len(ids) >= LIST_SIZE, f"{len(ids)} list images"
    show_id = ids[0]
    # curl's list: the pages osrs and openstack also walk (limit 1000, by marker).
    pages = []
    marker = None
    while True:
        url = f"{glance}/v2/images?tag={TAG}&limit=1000" + (f"&marker={marker}" if marker else "")
        pages.append(url)
        page = conn.session.get(url).json()["images"]
        if len(page) < 1000:
            break
        marker = page[-1]["id"]

    work = tempfile.mkdtemp(prefix="osrs-bench-cli-")
    src = os.path.join(work, "one.raw")
    block = os.urandom(1 << 20)
    with open(src, "wb") as f:
        for _ in range(mib):
            f.write(block)
    big = conn.image.create_image(name="osrs-bench-cli-save", filename=src, disk_format="raw", container_format="bare", wait=True)
    big = conn.image.get_image(big.id)

    # Start-up: `osrs --help`, 20 runs.
    helps = [run([osrs, "--help"])[0] for _ in range(20)]

    for r in range(rounds):
        for tool in ("osrs", "osrs-login", "openstack", "curl", "sdk"):
            if tool == "osrs":
                # Its default: the token kept by the previous run (osrs's token cache).
                cmds = {
                    "image list (2,001)": [osrs, "image", "list", "--tag", TAG, "-f", "value"],
                    "image show": [osrs, "image", "show", show_id, "-f", "json"],
                }
            elif tool == "osrs-login":
                # A login every run, as openstack does.
                cmds = {
                    "image list (2,001)": [osrs, "--no-token-cache", "image", "list", "--tag", TAG, "-f", "value"],
                    "image show": [osrs, "--no-token-cache", "image", "show", show_id, "-f", "json"],
                }
            elif tool == "sdk":
                cmds = {}
            elif tool == "openstack":
                cmds = {
                    "image list (2,001)": [openstack_cli, "image", "list", "--tag", TAG, "-f", "value"],
                    "image show": [openstack_cli, "image", "show", show_id, "-f", "json"],
                }
            else:
                cmds = {
                    "image list (2,001)": ["sh", "-c", " && ".join(" ".join(f"'{a}'" for a in curl(p)) for p in pages)],
                    "image show": curl(f"{glance}/v2/images/{show_id}"),
                }
            for op, argv in cmds.items():
                record(op, tool, run(argv, env=env))

            # create --file (1 GiB): each tool makes an image, deleted after the round.
            name = f"osrs-bench-cli-create-{tool}-{r}"
            if tool in ("sdk", "osrs-login"):
                pass
            elif tool == "osrs":
                argv = [osrs, "image", "create", name, "--file", src, "--disk-format", "raw", "-f", "value", "-c", "id"]
            elif tool == "openstack":
                argv = [openstack_cli, "image", "create", name, "--file", src, "--disk-format", "raw", "--container-format", "bare", "-f", "value", "-c", "id"]
            else:
                made = conn.image.create_image(name=name, disk_format="raw", container_format="bare")
                argv = curl("-X", "PUT", "-H", "Content-Type: application/octet-stream", "-T", src, f"{glance}/v2/images/{made.id}/file")
            if tool not in ("sdk", "osrs-login"):
                record(f"image create --file ({mib} MiB)", tool, run(argv, env=env))
                for i in conn.image.images(name=name):
                    conn.image.delete_image(i, ignore_missing=True)

            # save (cache miss, then hit).
            if tool == "osrs-login":
                continue
            out = os.path.join(work, f"out-{tool}.raw")
            for case in ("miss", "hit"):
                if case == "miss":
                    try:
                        conn.image.cache_delete_image(big.id, ignore_missing=True)
                    except Exception:
                        pass
                if tool == "osrs":
                    argv = [osrs, "image", "save", big.id, "--file", out]
                elif tool == "sdk":
                    argv = [sdk_save, cloud, big.id, out]
                elif tool == "openstack":
                    argv = [openstack_cli, "image", "save", big.id, "--file", out]
                else:
                    argv = curl("-o", out, f"{glance}/v2/images/{big.id}/file")
                record(f"image save ({mib} MiB, cache {case})", tool, run(argv, env=env))
                os.remove(out)

    conn.image.delete_image(big, ignore_missing=True)
    os.remove(src)
    os.rmdir(work)

    h = median_range(helps)
    print(f"\nosrs --help: median {h[0] * 1000:.1f} ms (range {h[1] * 1000:.1f}-{h[2] * 1000:.1f}), 20 runs")
    print(f"\n{rounds} interleaved rounds; medians (range); ratios are other/osrs wall time (>1: osrs faster); osrs keeps its token between runs, osrs-login logs in every run")
    print(f"{'operation':34} {'tool':9} {'wall s':>22} {'cpu s':>8} {'peak RSS MiB':>13}")
    for op, tools in results.items():
        for tool, ms in tools.items():
            w = median_range([m[0] for m in ms])
            c = statistics.median([m[1] for m in ms])
            rss = max(m[2] for m in ms)
            print(f"{op:34} {tool:9} {w[0]:8.3f} ({w[1]:.3f}-{w[2]:.3f}) {c:8.3f} {rss:13.1f}")
        for other, base in (("openstack", "osrs"), ("openstack", "osrs-login"), ("curl", "osrs"), ("sdk", "osrs")):
            if other not in tools or base not in tools:
                continue
            rr = [o[0] / b[0] for o, b in zip(tools[other], tools[base])]
            print(f"{'':34} {other}/{base} wall: {statistics.median(rr):.2f}x (range {min(rr):.2f}-{max(rr):.2f})")


main()
