"""A stand-in for systemd's notification socket (sd_notify(3)): binds an AF_UNIX SOCK_DGRAM socket at
argv[1], as the service manager does at /run/systemd/notify, and prints every datagram received as one
JSON line {"t": wall time in ms, "fields": ["READY=1", ...]}. Ready once it prints {"listening": path}."""
import json
import os
import socket
import sys
import time

path = sys.argv[1]
if os.path.exists(path):
    os.unlink(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
print(json.dumps({"listening": path}), flush=True)
while True:
    data = s.recv(4096)
    print(json.dumps({"t": time.time() * 1000, "fields": data.decode("utf-8").split("\n")}), flush=True)
