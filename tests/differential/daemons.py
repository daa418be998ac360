"""Starting and stopping the daemons a differential script compares: both
rtpengine 10.5 and rtpengined take the same command line, write their log
to a file of the run, and count as started once they answer."""
import os
import subprocess
import sys
import time

from ng_client import NgClient


def command(binary, ng, ports, *extra):
    """The options every script gives: foreground, no config file, userspace
    only, loopback, log to stderr, ng on `ng`, media ports `ports` (lo, hi)."""
    return [binary, "--foreground", "--config-file=none", "--table=-1", "--interface=127.0.0.1",
            "--log-stderr", "--listen-ng=127.0.0.1:%d" % ng, "--port-min=%d" % ports[0],
            "--port-max=%d" % ports[1]] + list(extra)


def start(cmd, logdir, name, ready, timeout=10):
    """Runs `cmd` with its output in LOGDIR/NAME.log until `ready()` is true
    (it may raise OSError while the daemon comes up); exits the script if
    the daemon dies or is not ready in time."""
    log = open(os.path.join(logdir, name + ".log"), "ab")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit("%s exited at start, log in %s" % (name, logdir))
        try:
            if ready():
                return proc
        except OSError:
            pass
        time.sleep(0.05)
    stop([proc])
    sys.exit("%s not ready in %d s, log in %s" % (name, timeout, logdir))


def start_pinged(cmd, logdir, name, ng, ready=lambda: True):
    """`start`, ready once an ng ping on port `ng` is answered (and `ready()`);
    returns the process and an ng client of its own (3 s timeout)."""
    client = NgClient(port=ng, timeout=0.2)
    proc = start(cmd, logdir, name, lambda: client.request({"command": "ping"}) and ready())
    client.sock.settimeout(3.0)
    return proc, client


def stop(procs):
    """SIGTERM, then SIGKILL whatever has not exited 5 s later."""
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
