"""What the benchmark scripts share: running a child and measuring it."""

import os
import subprocess
import sys
import tempfile
import time

TIME = "/usr/bin/time"  # GNU time: a child forked from it starts with its small RSS, not Python's


def run(argv, env=None, stdout=subprocess.DEVNULL):
    """Runs argv; returns (wall s, cpu s, peak RSS MiB); fails loudly on a non-zero exit.
    See `run_output` for a child whose (short) standard output is wanted.

    CPU is the child's user + system time (wait4). Peak RSS comes from GNU time (`%M`): a
    child forked from this Python process would inherit Python's RSS high-water mark, so
    wait4's ru_maxrss would report Python's.
    """
    rss_file = tempfile.NamedTemporaryFile(delete=False)
    rss_file.close()
    wrapped = [TIME, "-f", "%M", "-o", rss_file.name, *argv] if os.path.exists(TIME) else argv
    start = time.perf_counter()
    proc = subprocess.Popen(wrapped, stdout=stdout, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{argv[:4]}... failed: {err[-2000:]}")
    with open(rss_file.name) as f:
        text = f.read().strip().splitlines()
    os.remove(rss_file.name)
    rss = int(text[-1]) / 1024 if text and text[-1].isdigit() else float("nan")
    return wall, usage.ru_utime + usage.ru_stime, rss


def run_output(argv, env=None):
    """As `run`, and the child's standard output as text (kept in a temporary file, so a
    child writing much never waits on a pipe)."""
    with tempfile.TemporaryFile() as out:
        measured = run(argv, env=env, stdout=out)
        out.seek(0)
        return measured, out.read().decode(errors="replace")


def image(conn, name, mib):
    """The active image called `name`, or a new one of `mib` MiB (each MiB starts with its
    index, so no two are alike), made with openstacksdk and kept for the next run."""
    for img in conn.image.images(name=name):
        if img.status == "active":
            return img
    with tempfile.NamedTemporaryFile(delete=False) as f:
        block = os.urandom(1 << 20)
        for i in range(mib):
            f.write(i.to_bytes(8, "little") + block[8:])
    try:
        return conn.image.create_image(
            name=name, filename=f.name, disk_format="raw", container_format="bare", wait=True
        )
    finally:
        os.remove(f.name)
