#!/usr/bin/env python3
"""A TLS peer that misbehaves on purpose, for the workbook's tests.

Server modes print one line, "LISTENING <port>", in a single write once they listen on
127.0.0.1 (port 0: the kernel picks). Every mode also ends when the test program that started
it dies: a thread watches the parent's pid.
Client modes connect to HOST:PORT. Every mode ends by itself: nothing here runs forever.

  server no-close-notify CERT KEY   handshake, send "hello\\n", close TCP without close_notify
  server close-notify CERT KEY      handshake, send "hello\\n", send close_notify, then close
  server garbage                    accept and send bytes that are not TLS
  server stall                      accept and never send a byte
  server vanish CERT KEY            handshake, send half of 1 MiB, then close TCP abruptly
  client garbage HOST PORT          connect and send an HTTP request instead of a ClientHello
  client stall HOST PORT            connect and never send a byte
  client no-close-notify HOST PORT CA   handshake, send "hello\\n", close TCP without close_notify
"""
import os
import socket
import ssl
import sys
import threading
import time

LIFETIME = 30  # seconds: a stalled peer gives up by itself long after any test timeout


def die_with_parent():
    """Ends this peer when its parent (the test program) is gone, even if the parent was
    killed and never stopped us; the test kit's PR_SET_PDEATHSIG does the same, this also
    covers a peer started some other way."""
    parent = os.getppid()

    def watch():
        while True:
            if os.getppid() != parent:
                os._exit(0)
            time.sleep(0.1)

    threading.Thread(target=watch, daemon=True).start()


def listen():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    s.settimeout(LIFETIME)
    # One write: print("LISTENING", port) makes two when Python is unbuffered, and a reader
    # could see "LISTENING" without its port.
    sys.stdout.write("LISTENING %d\n" % s.getsockname()[1])
    sys.stdout.flush()
    return s


def server_ctx(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def serve(mode, args):
    s = listen()
    while True:
        try:
            conn, _ = s.accept()
        except socket.timeout:
            return
        conn.settimeout(LIFETIME)
        try:
            if mode == "garbage":
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\nthis is not TLS\r\n")
                time.sleep(0.2)
                conn.close()
            elif mode == "stall":
                time.sleep(LIFETIME)
                conn.close()
            else:
                tls = server_ctx(args[0], args[1]).wrap_socket(conn, server_side=True)
                if mode == "no-close-notify":
                    tls.sendall(b"hello\n")
                    # Closing the TCP socket under the TLS layer: no close_notify is sent.
                    sock = tls.detach() if hasattr(tls, "detach") else tls
                    sock.shutdown(socket.SHUT_RDWR)
                    sock.close()
                elif mode == "close-notify":
                    tls.sendall(b"hello\n")
                    tls.unwrap().close()
                elif mode == "vanish":
                    tls.sendall(b"x" * (512 * 1024))
                    sock = tls.detach()
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    sock.close()
                else:
                    sys.exit("unknown server mode " + mode)
        except (OSError, ssl.SSLError) as e:
            print("peer error:", e, file=sys.stderr, flush=True)


def client(mode, args):
    host, port = args[0], int(args[1])
    s = socket.create_connection((host, port), timeout=LIFETIME)
    if mode == "garbage":
        s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        try:
            s.recv(4096)
        except OSError:
            pass
        s.close()
    elif mode == "stall":
        time.sleep(LIFETIME)
        s.close()
    elif mode == "no-close-notify":
        ctx = ssl.create_default_context(cafile=args[2])
        tls = ctx.wrap_socket(s, server_hostname="localhost")
        tls.sendall(b"hello\n")
        sock = tls.detach()
        sock.shutdown(socket.SHUT_RDWR)
        sock.close()
    else:
        sys.exit("unknown client mode " + mode)
    print("DONE", flush=True)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    die_with_parent()
    role, mode, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
    (serve if role == "server" else client)(mode, rest)
