#!/usr/bin/env python3
"""A loopback TCP listener that accepts connections and never says a word.

    python3 test/hang_server.py --port-file FILE [--pid-file FILE]

Used by bench/hardening.sh as the "still connecting" endpoint: an https://
URL pointing here completes the TCP connect, sends its TLS ClientHello and
then waits for a ServerHello that never comes, so libcurl stays in its
connect phase (TCP + TLS handshake) until connect_timeout_ms, a cancel, or
a terminate.  A plain http:// URL to the same port would instead be "waiting
for headers".  Accepted sockets are held open (and drained) until the client
closes them or this process ends.
"""

import argparse
import os
import select
import socket
import sys


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--pid-file")
    args = p.parse_args()

    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(128)
    if args.pid_file:
        with open(args.pid_file, "w") as f:
            f.write("%d\n" % os.getpid())
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.replace(tmp, args.port_file)

    conns = []
    while True:
        r, _, _ = select.select([ls] + conns, [], [], 60)
        for s in r:
            if s is ls:
                c, _ = ls.accept()
                conns.append(c)
                continue
            try:
                data = s.recv(65536)  # the ClientHello: read, never answered
            except OSError:
                data = b""
            if not data:
                conns.remove(s)
                s.close()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
