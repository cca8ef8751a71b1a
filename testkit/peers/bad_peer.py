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
  server vanish CERT KEY            handshake, send half of 1 MiB, then close TCP without close_notify
  client garbage HOST PORT          connect and send an HTTP request instead of a ClientHello
  client stall HOST PORT            connect and never send a byte
  client no-close-notify HOST PORT CA   handshake, send "hello\\n", close TCP without close_notify
  server echo-all N CERT KEY         handshake, read exactly N bytes, print "RECEIVED <sha256>",
                                    send them back, then close_notify
  server sink-vanish CERT KEY       handshake, read 64 KiB, then reset the connection (RST)
  client read-to-end HOST PORT CA   handshake, read until the end; print "GOT <n> CLEAN" after a
                                    close_notify (and answer it, printing "ANSWERED") or
                                    "GOT <n> TRUNCATED" after a TCP close without one
  client read-no-answer HOST PORT CA  like read-to-end, but close TCP without answering the close_notify
"""
import os
import socket
import ssl
import sys
import threading
import time

LIFETIME = 30  # seconds: a stalled peer gives up by itself long after any test timeout


def strict(ctx):
    """A TCP close without close_notify must read as a truncation, never as a clean end.
    Some Pythons (Debian's 3.11.2, for one) create contexts with OP_IGNORE_UNEXPECTED_EOF
    on, which makes OpenSSL 3 report exactly that as a clean end: turn it off."""
    ctx.options &= ~getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)
    return ctx


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
    ctx = strict(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER))
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
                    # detach() gives back the file descriptor, without the TLS layer.
                    sock = socket.socket(fileno=tls.detach())
                    sock.shutdown(socket.SHUT_RDWR)
                    sock.close()
                elif mode == "close-notify":
                    tls.sendall(b"hello\n")
                    tls.unwrap().close()
                elif mode == "vanish":
                    tls.sendall(b"x" * (512 * 1024))
                    # As a peer whose process died: the kernel closes TCP (a FIN), and no
                    # close_notify ever comes.
                    socket.socket(fileno=tls.detach()).close()
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
        ctx = strict(ssl.create_default_context(cafile=args[2]))
        tls = ctx.wrap_socket(s, server_hostname="localhost")
        tls.sendall(b"hello\n")
        sock = socket.socket(fileno=tls.detach())
        sock.shutdown(socket.SHUT_RDWR)
        sock.close()
    else:
        sys.exit("unknown client mode " + mode)
    print("DONE", flush=True)


# Modes added for chapters 10 (data) and 11 (shutdown); kept apart from the ones above.
EXTRA_SERVER_MODES = ("echo-all", "sink-vanish")
EXTRA_CLIENT_MODES = ("read-to-end", "read-no-answer")


def reset(sock):
    """Close a plain socket with an RST: SO_LINGER on, with a zero timeout."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.close()


def extra_serve(mode, args):
    import hashlib
    s = listen()
    try:
        conn, _ = s.accept()
    except socket.timeout:
        return
    conn.settimeout(LIFETIME)
    try:
        if mode == "echo-all":
            want = int(args[0])
            tls = server_ctx(args[1], args[2]).wrap_socket(conn, server_side=True)
            got = bytearray()
            while len(got) < want:
                chunk = tls.recv(min(65536, want - len(got)))
                if not chunk:
                    break
                got += chunk
            print("RECEIVED", len(got), hashlib.sha256(got).hexdigest(), flush=True)
            tls.sendall(bytes(got))
            tls.unwrap().close()
        elif mode == "sink-vanish":
            tls = server_ctx(args[0], args[1]).wrap_socket(conn, server_side=True)
            got = 0
            while got < 64 * 1024:
                chunk = tls.recv(65536)
                if not chunk:
                    break
                got += len(chunk)
            print("VANISHING after", got, flush=True)
            # detach() gives back the file descriptor: the TCP socket without its TLS layer.
            reset(socket.socket(fileno=tls.detach()))
    except (OSError, ssl.SSLError) as e:
        print("peer error:", e, file=sys.stderr, flush=True)
    print("DONE", flush=True)


def extra_client(mode, args):
    host, port = args[0], int(args[1])
    s = socket.create_connection((host, port), timeout=LIFETIME)
    ctx = strict(ssl.create_default_context(cafile=args[2]))
    tls = ctx.wrap_socket(s, server_hostname="localhost", suppress_ragged_eofs=False)
    got = 0
    try:
        while True:
            chunk = tls.recv(65536)
            if not chunk:
                break
            got += len(chunk)
    except (OSError, ssl.SSLError) as e:
        # Some Pythons (Debian's 3.11.2, for one) raise OpenSSL 3's unexpected EOF as a
        # plain SSLError, not as SSLEOFError.
        reason = getattr(e, "reason", None)
        if isinstance(e, ssl.SSLEOFError) or reason == "UNEXPECTED_EOF_WHILE_READING":
            print("GOT", got, "TRUNCATED", flush=True)
        else:
            print("GOT", got, "FAILED", e, flush=True)
        tls.close()
        print("DONE", flush=True)
        return
    print("GOT", got, "CLEAN", flush=True)
    if mode == "read-to-end":
        tls.unwrap().close()
        print("ANSWERED", flush=True)
    else:
        # Close TCP under the TLS layer: the close_notify is never answered.
        socket.socket(fileno=tls.detach()).close()
    print("DONE", flush=True)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    die_with_parent()
    role, mode, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
    if role == "server" and mode in EXTRA_SERVER_MODES:
        extra_serve(mode, rest)
    elif role == "client" and mode in EXTRA_CLIENT_MODES:
        extra_client(mode, rest)
    else:
        (serve if role == "server" else client)(mode, rest)
