#!/usr/bin/env python3
"""Writes the engine's COMMAND DOCS for a few commands as JSON in the shape
of protocol::CommandDoc (as backend/src/catalog/docs.rs maps them), for the
hint tests in protocol/src/commands/hints.rs.

Usage: command-docs-fixture.py SOCKET OUT.json COMMAND...
Start the engine with its own --dir and --save "" (see engine-smoke.sh)."""
import json
import socket
import sys


def request(sock, args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    sock.sendall(out)


class Reader:
    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def line(self):
        while b"\r\n" not in self.buf:
            self.buf += self.sock.recv(65536)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def value(self):
        line = self.line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b":"):
            return rest.decode()
        if kind == b"-":
            raise SystemExit("error: " + rest.decode())
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.sock.recv(65536)
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data.decode()
        if kind == b"*":
            return [self.value() for _ in range(int(rest))]
        raise SystemExit("unexpected reply " + repr(line))


def pairs(flat):
    return dict(zip(flat[::2], flat[1::2]))


def argument(flat):
    f = pairs(flat)
    arg = {"name": f.get("name", ""), "type": f.get("type", "")}
    for key, field in (("display_text", "display"), ("token", "token")):
        if key in f:
            arg[field] = f[key]
    flags = f.get("flags", [])
    arg["optional"] = "optional" in flags
    arg["multiple"] = "multiple" in flags
    arg["multiple_token"] = "multiple_token" in flags
    if "arguments" in f:
        arg["arguments"] = [argument(a) for a in f["arguments"]]
    return arg


def command(name, flat):
    f = pairs(flat)
    doc = {"name": name.replace("|", " ").upper()}
    for key in ("summary", "group", "since", "deprecated_since", "replaced_by"):
        if key in f:
            doc[key] = f[key]
    if "arguments" in f:
        doc["arguments"] = [argument(a) for a in f["arguments"]]
    if "subcommands" in f:
        doc["subcommands"] = [command(n, d) for n, d in pairs(f["subcommands"]).items()]
    return doc


def main():
    path, out, names = sys.argv[1], sys.argv[2], sys.argv[3:]
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(path)
    request(sock, ["COMMAND", "DOCS", *names])
    docs = pairs(Reader(sock).value())
    commands = [command(n, d) for n, d in sorted(docs.items())]
    found = {c["name"] for c in commands}
    missing = [n for n in names if n.upper() not in found]
    if missing:
        print("not documented by the engine: " + " ".join(missing), file=sys.stderr)
    with open(out, "w") as fh:
        json.dump({"commands": commands}, fh, indent=1)
        fh.write("\n")


main()
