#!/usr/bin/env python3
"""Recording through the kernel module (issue 19), driven through the binary control
interface of rtpengine 10.5: ADD_CALL, DEL_CALL, ADD_STREAM, DEL_STREAM, PACKET and the
stream files /proc/rtpengine/N/calls/<call>/<stream>. Prints `ok - ...` / `not ok - ...`.

Usage: recording-lib.py abi TABLE      (the table must exist, its control file closed)
       recording-lib.py start-recording NG_PORT CALL_ID FROM_TAG
"""
import errno
import importlib.util
import os
import select
import signal
import stat
import struct
import sys
import threading
import time

MSG_SIZE = 1232
NOOP, ADD_CALL, DEL_CALL, ADD_STREAM, DEL_STREAM, PACKET = 1, 5, 6, 7, 8, 9
FAILS = 0


def ok(cond, name, detail=""):
    global FAILS
    if cond:
        print("ok - %s" % name)
    else:
        FAILS += 1
        print("not ok - %s%s" % (name, (": " + detail) if detail else ""))


def msg(cmd, payload=b""):
    m = struct.pack("<I4x", cmd) + payload
    return m + bytes(MSG_SIZE - len(m))


def call_info(idx, name):
    return struct.pack("<I", idx) + name.ljust(256, b"\0")[:256]


def stream_info(call, idx, name, max_packets=0):
    return struct.pack("<III", call, idx, max_packets) + name.ljust(256, b"\0")[:256]


class Control:
    def __init__(self, table):
        self.fd = os.open("/proc/rtpengine/%d/control" % table, os.O_RDWR)

    def write(self, data):
        """errno (0 on success) of a write."""
        try:
            os.write(self.fd, data)
            return 0
        except OSError as e:
            return e.errno

    def read(self, data):
        """(errno, answer) of a read that executes `data`."""
        buf = bytearray(data)
        try:
            os.readv(self.fd, [buf])
            return 0, bytes(buf)
        except OSError as e:
            return e.errno, None

    def add_call(self, name):
        e, a = self.read(msg(ADD_CALL, call_info(0, name)))
        return e, (struct.unpack_from("<I", a, 8)[0] if a else None)

    def add_stream(self, call, name, max_packets=0):
        e, a = self.read(msg(ADD_STREAM, stream_info(call, 0, name, max_packets)))
        return e, (struct.unpack_from("<I", a, 12)[0] if a else None)

    def del_call(self, idx):
        return self.write(msg(DEL_CALL, call_info(idx, b"")))

    def del_stream(self, call, idx, name=b""):
        return self.write(msg(DEL_STREAM, stream_info(call, idx, name)))

    def packet(self, stream, data):
        return self.write(msg(PACKET, struct.pack("<II", 0, stream)) + data)

    def close(self):
        os.close(self.fd)


def read_nb(path_or_fd):
    fd = path_or_fd
    try:
        return os.read(fd, 65536)
    except OSError as e:
        return e.errno


def abi(table):
    base = "/proc/rtpengine/%d" % table
    st = os.stat(base + "/calls")
    ok(stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o555, "calls/ is a 0555 directory",
       oct(st.st_mode))
    c = Control(table)
    ok(c.write(msg(ADD_CALL, call_info(0, b"w"))) == errno.EINVAL, "ADD_CALL by write is EINVAL")
    ok(c.add_call(b"") [0] == errno.EINVAL, "ADD_CALL of an empty call id is EINVAL")
    ok(c.read(msg(ADD_CALL, struct.pack("<I", 0) + b"x" * 256))[0] == errno.EINVAL,
       "ADD_CALL of an unterminated call id is EINVAL")
    ok(c.add_call(b"a/b")[0] == errno.EINVAL, "ADD_CALL of a call id with / is EINVAL")
    e, c1 = c.add_call(b"call-one")
    ok(e == 0 and c1 == 0, "ADD_CALL answers call_idx 0", "errno %s idx %s" % (e, c1))
    st = os.stat(base + "/calls/call-one")
    ok(stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o555, "calls/call-one/ is 0555")
    ok(c.add_call(b"call-one")[0] == errno.EEXIST, "ADD_CALL of the same call id is EEXIST")
    e, c2 = c.add_call(b"call-two")
    ok(e == 0 and c2 == 1, "second ADD_CALL answers call_idx 1", "errno %s idx %s" % (e, c2))

    ok(c.add_stream(7, b"s")[0] == errno.ENOENT, "ADD_STREAM to a missing call is ENOENT")
    ok(c.add_stream(c1, b"")[0] == errno.EINVAL, "ADD_STREAM of an empty name is EINVAL")
    ok(c.write(msg(ADD_STREAM, stream_info(c1, 0, b"s"))) == errno.EINVAL,
       "ADD_STREAM by write is EINVAL")
    e, s1 = c.add_stream(c1, b"tag-1-media-1-component-1-RTP-id-0")
    ok(e == 0 and s1 == 0, "ADD_STREAM answers stream_idx 0", "errno %s idx %s" % (e, s1))
    spath = base + "/calls/call-one/tag-1-media-1-component-1-RTP-id-0"
    st = os.stat(spath)
    ok(stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o440, "stream file is 0440",
       oct(st.st_mode))
    ok(c.add_stream(c1, b"tag-1-media-1-component-1-RTP-id-0")[0] == errno.EEXIST,
       "ADD_STREAM of the same name in the call is EEXIST")
    e, s2 = c.add_stream(c2, b"tag-1-media-1-component-1-RTP-id-0")
    ok(e == 0 and s2 == 1, "the same name in another call is a new stream", "%s %s" % (e, s2))

    ok(c.write(msg(PACKET, struct.pack("<II", 0, s1))) == errno.EINVAL, "PACKET without data is EINVAL")
    ok(c.packet(99, b"x") == errno.ENOENT, "PACKET to a missing stream is ENOENT")

    fd = os.open(spath, os.O_RDONLY | os.O_NONBLOCK)
    ok(read_nb(fd) == errno.EAGAIN, "non-blocking read of an empty stream is EAGAIN")
    p = select.poll()
    p.register(fd, select.POLLIN)
    ok(p.poll(0) == [], "poll: an empty stream is not readable")
    ok(c.packet(s1, b"first packet") == 0, "PACKET queues")
    ev = p.poll(1000)
    ok(ev and ev[0][1] & select.POLLIN, "poll: readable after PACKET", repr(ev))
    c.packet(s1, b"second")
    ok(read_nb(fd) == b"first packet", "read returns the first packet whole")
    ok(os.read(fd, 3) == b"sec", "a short read returns the start of the packet")
    ok(read_nb(fd) == errno.EAGAIN, "and the rest of that packet is gone")

    e, s3 = c.add_stream(c1, b"small", 3)
    fd3 = os.open(base + "/calls/call-one/small", os.O_RDONLY | os.O_NONBLOCK)
    for i in range(5):
        c.packet(s3, b"p%d" % i)
    got = [read_nb(fd3) for _ in range(4)]
    ok(got == [b"p2", b"p3", b"p4", errno.EAGAIN], "max_packets 3 keeps the newest 3", repr(got))
    for i in range(25):
        c.packet(s1, b"q%d" % i)
    got = [read_nb(fd) for _ in range(11)]
    ok(got == [b"q%d" % i for i in range(15, 25)] + [errno.EAGAIN],
       "max_packets 0 keeps the default of 10", repr(got))

    # A blocking reader wakes for a packet, and for the end of the stream.
    fdb = os.open(spath, os.O_RDONLY)
    res = []
    t = threading.Thread(target=lambda: res.append(os.read(fdb, 65536)))
    t.start()
    time.sleep(0.3)
    c.packet(s1, b"wake")
    t.join(5)
    ok(res == [b"wake"], "a blocking read wakes for a packet", repr(res))
    # A signal interrupts a blocked read (and nothing is lost: the next packet reads).
    class Alarm(Exception):
        pass

    def on_alarm(*_):
        raise Alarm()

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, 0.3)
    try:
        r = os.read(fdb, 65536)
    except Alarm:
        r = "interrupted"
    signal.signal(signal.SIGALRM, old)
    ok(r == "interrupted", "a signal interrupts a blocked read", repr(r))
    c.packet(s1, b"after the signal")
    ok(os.read(fdb, 65536) == b"after the signal", "the next read gets the next packet")
    res = []
    t = threading.Thread(target=lambda: res.append(os.read(fdb, 65536)))
    t.start()
    time.sleep(0.3)
    # The file stays open in this process: 10.5's DEL_STREAM would wait for it forever.
    t0 = time.monotonic()
    e = c.del_stream(c1, s1, b"not-its-name")
    ok(e == 0 and time.monotonic() - t0 < 2, "DEL_STREAM returns at once with the file open and read",
       "errno %s" % e)
    t.join(5)
    ok(res == [b""], "the blocked read returns end of file", repr(res))
    ok(not os.path.exists(spath), "DEL_STREAM removes the stream file")
    try:
        r = os.read(fd, 10)
    except OSError as ex:
        r = ex.errno
    ok(r in (b"", errno.EIO), "a read of a deleted stream's open file is 0 or EIO", repr(r))
    for f in (fd, fdb):
        os.close(f)
    ok(c.del_stream(c1, s1) == errno.ENOENT, "DEL_STREAM again is ENOENT")
    ok(c.del_stream(c1, s2) == errno.ENOENT, "DEL_STREAM of another call's stream is ENOENT")
    ok(c.packet(s1, b"x") == errno.ENOENT, "PACKET to a deleted stream is ENOENT")

    # poll with a reader in epoll, then DEL_CALL with the file still open.
    ep = select.epoll()
    ep.register(fd3, select.EPOLLIN)
    ok(ep.poll(0) == [], "epoll: nothing queued")
    t0 = time.monotonic()
    ok(c.del_call(c1) == 0 and time.monotonic() - t0 < 2, "DEL_CALL returns at once with a stream file open")
    ok(not os.path.exists(base + "/calls/call-one"), "DEL_CALL removes the call directory")
    ok(c.del_call(c1) == errno.ENOENT, "DEL_CALL again is ENOENT")
    ep.close()
    os.close(fd3)
    e, c3 = c.add_call(b"call-three")
    ok(e == 0 and c3 == c1, "the freed call index is handed out again", "%s %s" % (e, c3))
    e, s4 = c.add_stream(c3, b"x")
    ok(e == 0 and s4 == s3, "the last freed stream index is handed out first", "%s %s vs %s" % (e, s4, s3))
    # Many streams: the registry outgrows what kmalloc gives (about 300 bytes a stream),
    # without a kernel warning, and DEL_CALL takes them all.
    e, cm = c.add_call(b"many")
    n, last, err = 20000, None, 0
    for i in range(n):
        e, last = c.add_stream(cm, b"s%d" % i)
        err += e != 0
    ok(err == 0 and len(os.listdir(base + "/calls/many")) == n, "%d streams in one call" % n,
       "%d errors, last index %s" % (err, last))
    t0 = time.monotonic()
    ok(c.del_call(cm) == 0 and not os.path.exists(base + "/calls/many"),
       "DEL_CALL of a call with %d streams (%.1f s)" % (n, time.monotonic() - t0))
    # Left for table deletion: call-two with a stream and call-three with a stream.
    c.close()
    return FAILS


def start_recording(port, call_id, from_tag):
    spec = importlib.util.spec_from_file_location(
        "offload_lib", os.path.join(os.path.dirname(os.path.abspath(__file__)), "offload-lib.py"))
    lib = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lib)
    r = lib.ng(port, {"command": "start recording", "call-id": call_id, "from-tag": from_tag})
    print("result=%s" % r.get("result", b"").decode())
    return 0 if r.get("result") == b"ok" else 1


if __name__ == "__main__":
    if sys.argv[1] == "abi":
        sys.exit(1 if abi(int(sys.argv[2])) else 0)
    if sys.argv[1] == "start-recording":
        sys.exit(start_recording(*sys.argv[2:5]))
    print(__doc__, file=sys.stderr)
    sys.exit(2)
