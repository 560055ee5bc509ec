#!/usr/bin/env python3
"""
Integration test: backing-store errors become the right NVMe status, an
error-log entry and (for media errors only) a SMART media error, and the
daemon goes on serving.

    faults.py BUILD/daemon/nvmfd

1. ENOSPC: a sparse file on a 1 MiB tmpfs. Writing until the store is
   full: Capacity Exceeded with DNR (as nvmet: -ENOSPC ->
   NVME_SC_CAP_EXCEEDED | DNR), an error-log entry (Get Log Page 01h) with
   the status, the namespace and the LBA, no SMART media error (a full
   store is no data integrity error, Base 5.16.1.3); reads go on; once
   space is freed the same write succeeds.
2. EIO: the kernel here has no device-mapper (no dm-error / dm-flakey), so
   the failing device is a FUSE file whose second half fails every read
   and write (eio_fuse.py): as a file namespace, and through a loop device
   as a block device namespace. A read there: Unrecovered Read Error; a
   write: Write Fault (both without DNR: a retry may succeed); an
   error-log entry each; the SMART media error count goes up by one each;
   the good half keeps working.

Needs root (mount, losetup) and, for part 2, /dev/fuse and python3-fusepy;
what cannot run is skipped with the reason. Prints TAP; exit 0 / 1, or 77
(skip).
"""
import os
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from taplib import check, done, free_ports, nvmfd_arg, skipcase  # noqa: E402
from nvmftcp import Closed, Daemon, admin_up, io_up, ns, nvmfd_ini, subsystem  # noqa: E402

NVMFD = nvmfd_arg()
if os.geteuid() != 0:
    print("1..0 # SKIP needs root (tmpfs, FUSE and loop devices)")
    sys.exit(77)

SUB = "nqn.2026-11.io.nvmfd:faults"
HOST = "nqn.2014-08.org.nvmexpress:uuid:eeeeeeee-0000-0000-0000-000000000001"
BS = 4096
CAP_EXCEEDED = 0x4081   # Generic 81h, DNR
READ_ERROR = 0x281      # Media 81h: Unrecovered Read Error
WRITE_FAULT = 0x280     # Media 80h: Write Fault
HERE = os.path.dirname(os.path.abspath(__file__))

work = tempfile.mkdtemp(prefix="nvmfd-faults.")
cleanup = []


def run(*cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)


def conf(port, dport, namespaces):
    return nvmfd_ini(port, dport, work, subsystem(SUB, *[
        ns(nsid, path, block_size=4096, direct=bool(direct)) for nsid, path, direct in namespaces]))


def stop_cleanly(d, kind):
    """One check: SIGTERM stops d with exit 0 and no sanitizer report."""
    rc = d.stop()
    check("%s: the daemon stops cleanly" % kind, rc == 0 and not d.sanitizer_lines(),
          "exit %s %s" % (rc, d.sanitizer_lines()[:3]))


def error_log(a):
    """The error-log entries, newest first: (count, sqid, cid, status, lba, nsid)."""
    st, data = a.get_log(0x01, 64 * 16)
    out = []
    for i in range(0, len(data), 64):
        cnt, sqid, cid, sf, ploc, lba, nsid = struct.unpack_from("<QHHHHQI", data, i)
        if cnt:
            out.append((cnt, sqid, cid, sf >> 1, lba, nsid))
    return sorted(out, reverse=True)


def media_errors(a, nsid=0xFFFFFFFF):
    st, data = a.get_log(0x02, 512, nsid=nsid)
    lo, hi = struct.unpack_from("<QQ", data, 160)
    return lo | hi << 64


def pattern(lba):
    return (struct.pack("<Q", lba) * (BS // 8))


def enospc():
    mnt = os.path.join(work, "tmpfs")
    os.mkdir(mnt)
    r = run("mount", "-t", "tmpfs", "-o", "size=1M", "tmpfs", mnt)
    if r.returncode != 0:
        skipcase("ENOSPC on a full tmpfs", "mount -t tmpfs failed: " + r.stdout.strip())
        return
    cleanup.append(["umount", "-l", mnt])
    img = os.path.join(mnt, "ns.img")
    with open(img, "wb") as f:
        f.truncate(8 << 20)   # sparse: 8 MiB the host sees, 1 MiB the store has
    balloon = os.path.join(mnt, "balloon")
    with open(balloon, "wb") as f:
        f.write(b"\xff" * (256 << 10))
    port, dport = free_ports(2)
    d = Daemon(NVMFD, work, conf(port, dport, [(1, img, False)]), port, "enospc")
    try:
        a = admin_up(port, SUB, HOST)
        io = io_up(port, a)
        me0 = media_errors(a)
        failed_lba, st = None, 0
        for lba in range(0, 2048):
            st = io.write(lba, pattern(lba), bs=BS)
            if st != 0:
                failed_lba = lba
                break
        check("writing until the tmpfs is full: Capacity Exceeded with DNR",
              failed_lba is not None and st == CAP_EXCEEDED,
              "status %#x at lba %s" % (st, failed_lba))
        if failed_lba is None:
            raise Closed("the store never filled")
        print("# the store filled at LBA %d (%d KiB written)" % (failed_lba, failed_lba * 4))
        log = error_log(a)
        e = log[0] if log else None
        check("an error-log entry: status Capacity Exceeded, namespace 1, the LBA",
              e is not None and e[3] == 0x81 and e[5] == 1 and e[4] == failed_lba and e[1] == 1,
              repr(e))
        check("no SMART media error for a full store", media_errors(a) == me0,
              "%d -> %d" % (me0, media_errors(a)))
        st, data = io.read(0, 1, bs=BS)
        check("reads go on", st == 0 and data == pattern(0), "status %#x" % st)
        os.unlink(balloon)
        st = io.write(failed_lba, pattern(failed_lba), bs=BS)
        check("space freed: the same write succeeds", st == 0, "status %#x" % st)
        st, data = io.read(failed_lba, 1, bs=BS)
        check("and reads back", st == 0 and data == pattern(failed_lba), "status %#x" % st)
        io.close()
        a.close()
    except (Closed, OSError) as e:
        check("no unexpected error (ENOSPC)", False, repr(e))
    stop_cleanly(d, "ENOSPC")


def eio():
    if not os.path.exists("/dev/fuse"):
        skipcase("EIO from a failing device", "no /dev/fuse")
        return
    mnt = os.path.join(work, "fuse")
    os.mkdir(mnt)
    size, bad = 16 << 20, 8 << 20
    helper = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "eio_fuse.py"), mnt,
                               str(size), str(bad)], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, universal_newlines=True)
    img = os.path.join(mnt, "disk.img")
    for _ in range(50):
        if os.path.exists(img) or helper.poll() is not None:
            break
        time.sleep(0.1)
    if not os.path.exists(img):
        helper.kill()
        out = helper.communicate()[0]
        skipcase("EIO from a failing device",
                 "the FUSE helper did not mount (python3-fusepy?): " + out.strip()[-200:])
        return
    cleanup.append(["umount", "-l", mnt])
    nss = [(1, img, False)]
    r = run("losetup", "-f", "--show", "--sector-size", "4096", img)
    loop = r.stdout.strip() if r.returncode == 0 else None
    if loop:
        cleanup.insert(0, ["losetup", "-d", loop])
        nss.append((2, loop, True))
    else:
        skipcase("EIO through a loop device (block device namespace)",
                 "losetup failed: " + r.stdout.strip())
    port, dport = free_ports(2)
    d = Daemon(NVMFD, work, conf(port, dport, nss), port, "eio")
    try:
        a = admin_up(port, SUB, HOST)
        io = io_up(port, a)
        bad_lba = bad // BS + 5
        for nsid, path, _ in nss:
            kind = "file on FUSE" if nsid == 1 else "loop device over it"
            me0 = media_errors(a)
            st = io.write(7, pattern(7), bs=BS, nsid=nsid)
            st2, data = io.read(7, 1, bs=BS, nsid=nsid)
            check("%s: the good half reads and writes" % kind,
                  st == 0 and st2 == 0 and data == pattern(7), "%#x %#x" % (st, st2))
            st, _ = io.read(bad_lba, 1, bs=BS, nsid=nsid)
            check("%s: a read of the bad half: Unrecovered Read Error, no DNR" % kind,
                  st == READ_ERROR, "status %#x" % st)
            e = error_log(a)[0]
            check("%s: its error-log entry (status, namespace, LBA)" % kind,
                  e[3] == READ_ERROR and e[5] == nsid and e[4] == bad_lba, repr(e))
            st = io.write(bad_lba, pattern(bad_lba), bs=BS, nsid=nsid)
            check("%s: a write there: Write Fault, no DNR" % kind, st == WRITE_FAULT,
                  "status %#x" % st)
            e = error_log(a)[0]
            check("%s: its error-log entry" % kind,
                  e[3] == WRITE_FAULT and e[5] == nsid and e[4] == bad_lba, repr(e))
            me1 = media_errors(a)
            check("%s: two SMART media errors counted" % kind, me1 == me0 + 2,
                  "%d -> %d" % (me0, me1))
            check("%s: and per namespace" % kind, media_errors(a, nsid) >= 2)
            st2, data = io.read(7, 1, bs=BS, nsid=nsid)
            check("%s: the daemon goes on serving the good half" % kind,
                  st2 == 0 and data == pattern(7), "%#x" % st2)
        io.close()
        a.close()
    except (Closed, OSError) as e:
        check("no unexpected error (EIO)", False, repr(e))
    stop_cleanly(d, "EIO")
    warn = [l for l in d.text().splitlines() if "backend" in l and "Input/output error" in l]
    check("the backend errors are logged", len(warn) >= 1, "%d lines" % len(warn))
    for c in cleanup:
        run(*c)
    cleanup.clear()
    try:
        helper.wait(5)
    except subprocess.TimeoutExpired:
        helper.kill()
        helper.wait()


try:
    enospc()
    eio()
finally:
    for c in cleanup:
        run(*c)
done(work)
