#!/usr/bin/env python3
"""A TLS front that is not modspec's: Python's ssl module (OpenSSL) terminating
HTTPS and forwarding every request, unchanged, to a plain-HTTP backend.

CI uses it to show that `modspec run --target https://… --cacert …` works
against a TLS stack other than the rustls of `modspec serve --tls-cert`.
The Host header is forwarded as received, so V3 signatures (which sign
`host`) verify at the backend.

Usage: tls_proxy.py CERT KEY BACKEND_HOST:PORT
Prints the bound https URL as its first line, then serves until killed.
"""
import http.client
import http.server
import socket
import ssl
import sys

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}


def main() -> None:
    cert, key, backend = sys.argv[1], sys.argv[2], sys.argv[3]
    host, port = backend.rsplit(":", 1)

    class Forward(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            upstream = http.client.HTTPConnection(host, int(port), timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            upstream.request(self.command, self.path, body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
            self.send_response_only(answer.status, answer.reason)
            for k, v in answer.getheaders():
                if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            upstream.close()

        # Every method goes through: the suite sends some (G1) on purpose.
        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = forward

        def setup(self) -> None:
            super().setup()
            # Headers and body leave in two writes: without TCP_NODELAY,
            # Nagle's algorithm and the client's delayed ACK add 40 ms to each.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, *args) -> None:  # quiet: CI reads modspec's output
            pass

    class Server(http.server.ThreadingHTTPServer):
        request_queue_size = 128  # read by listen(): the suite runs many trials at once
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Forward)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print(f"https://127.0.0.1:{server.server_address[1]}/", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
