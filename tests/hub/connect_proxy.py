#!/usr/bin/env python3
"""A CONNECT proxy for the tests, on loopback: it tunnels `CONNECT host:port` to the target
and appends each request line it gets (`CONNECT 127.0.0.1:8080 HTTP/1.1`, or an absolute-form
`GET http://… HTTP/1.1`, which it refuses with 501) to the --log file, one per line, flushed
at once. With --user/--password it requires `Proxy-Authorization: Basic` and answers 407
otherwise. --map NAME=IP (repeatable) resolves NAME to IP, so a test can use a host name only
the proxy can reach. It prints `READY http://127.0.0.1:PORT` once it listens.
"""

import argparse
import base64
import socket
import socketserver
import threading


class Handler(socketserver.StreamRequestHandler):
    log_path = None
    credential = None
    hosts = {}
    lock = threading.Lock()

    def log(self, line):
        with self.lock, open(self.log_path, "a") as log:
            log.write(line + "\n")

    def handle(self):
        line = self.rfile.readline(65536).decode("latin-1").rstrip("\r\n")
        if not line:
            return
        headers = {}
        while True:
            header = self.rfile.readline(65536).decode("latin-1").rstrip("\r\n")
            if not header:
                break
            name, _, value = header.partition(":")
            headers[name.strip().lower()] = value.strip()
        self.log(line)
        method, _, rest = line.partition(" ")
        target = rest.split(" ")[0]
        if self.credential and headers.get("proxy-authorization") != "Basic " + self.credential:
            self.wfile.write(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                             b"Proxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n")
            return
        if method != "CONNECT":
            self.wfile.write(b"HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\n\r\n")
            return
        host, _, port = target.rpartition(":")
        try:
            host = host.strip("[]")
            upstream = socket.create_connection((self.hosts.get(host, host), int(port)), timeout=30)
        except OSError:
            self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        upstream.settimeout(None)
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        client = self.connection

        def pump(src, dst):
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

        # Bytes the client sent after its headers are already in rfile's buffer.
        buffered = self.rfile.peek(0) if hasattr(self.rfile, "peek") else b""
        if buffered:
            upstream.sendall(self.rfile.read(len(buffered)))
        back = threading.Thread(target=pump, args=(upstream, client), daemon=True)
        back.start()
        pump(client, upstream)
        back.join()
        upstream.close()


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--log", required=True)
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--map", action="append", default=[])
    args = ap.parse_args()
    Handler.hosts = dict(entry.split("=", 1) for entry in args.map)
    Handler.log_path = args.log
    if args.user:
        Handler.credential = base64.b64encode(f"{args.user}:{args.password}".encode()).decode()
    open(args.log, "a").close()
    server = Server(("127.0.0.1", 0), Handler)
    print("READY http://127.0.0.1:%d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
