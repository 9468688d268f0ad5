"""A loopback upstream for the gateway benchmark: answers every GET with a small JSON body.

    python bench/benchmarks/_upstream.py 9650

Run as its own process, so the gateway being measured does not share its interpreter.
"""

import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BODY = b'{"station":"57687","temperature":12.5,"observed_at":"2024-05-01T08:00:00+08:00"}'


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real upstream would
    disable_nagle_algorithm = True  # headers and body leave at once, as from a real server

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
