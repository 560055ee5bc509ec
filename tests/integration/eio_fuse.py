#!/usr/bin/python3
"""
A FUSE file system with one file, disk.img, whose bytes from BAD_OFFSET on
return EIO to every read and write: a disk with a bad region, for
tests/integration/faults.py (the kernel here has no device-mapper, so no
dm-error; a loop device over this file is a block device that fails the
same way). The good part lives in memory.

    eio_fuse.py MOUNTPOINT SIZE BAD_OFFSET

Runs in the foreground until unmounted. Needs python3-fusepy (Debian's
package installs it as the module fusepy, for /usr/bin/python3).
"""
import errno
import stat
import sys
import time

try:
    from fusepy import FUSE, FuseOSError, Operations
except ImportError:
    from fuse import FUSE, FuseOSError, Operations

NAME = "/disk.img"


class BadDisk(Operations):
    def __init__(self, size, bad):
        self.size = size
        self.bad = bad
        self.data = bytearray(size)
        self.t = time.time()

    def getattr(self, path, fh=None):
        if path == "/":
            return dict(st_mode=stat.S_IFDIR | 0o755, st_nlink=2, st_size=0,
                        st_ctime=self.t, st_mtime=self.t, st_atime=self.t)
        if path == NAME:
            return dict(st_mode=stat.S_IFREG | 0o644, st_nlink=1, st_size=self.size,
                        st_ctime=self.t, st_mtime=self.t, st_atime=self.t)
        raise FuseOSError(errno.ENOENT)

    def readdir(self, path, fh):
        return [".", "..", NAME[1:]]

    def open(self, path, flags):
        if path != NAME:
            raise FuseOSError(errno.ENOENT)
        return 0

    def read(self, path, size, offset, fh):
        if offset + size > self.bad and offset < self.size:
            raise FuseOSError(errno.EIO)
        return bytes(self.data[offset:offset + size])

    def write(self, path, buf, offset, fh):
        if offset + len(buf) > self.bad:
            raise FuseOSError(errno.EIO)
        self.data[offset:offset + len(buf)] = buf
        return len(buf)

    def truncate(self, path, length, fh=None):
        raise FuseOSError(errno.EPERM)

    def flush(self, path, fh):
        return 0

    def fsync(self, path, datasync, fh):
        return 0

    def release(self, path, fh):
        return 0


if __name__ == "__main__":
    mnt, size, bad = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    FUSE(BadDisk(size, bad), mnt, foreground=True, nothreads=True, allow_other=True)
