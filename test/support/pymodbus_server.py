"""An independent Modbus peer for wasmgate's interop tests, built on Debian's python3-pymodbus 3.0.

Three modes, all driven by test/support/pymodbus.ts (serve-rtu through test/support/pymodbus-rtu.ts):

  serve '<json image>'    Modbus TCP server on 127.0.0.1, port 0 unless the image names one.
                          Prints "READY <port>" on stdout once it accepts connections, then serves
                          until SIGTERM/SIGINT or until stdin reaches EOF (so it never outlives the
                          test process that spawned it).
  serve-rtu '<json bus>'  Modbus RTU server for several unit ids, each with its own image and an
                          optional fault, on a serial port (a pty of a socat pair) or on TCP with the
                          RTU framer (RTU over TCP, as a serial device server speaks it). Prints
                          "READY <port or path>", then reads commands, one JSON line each, on stdin
                          (EOF stops it, as above):
                            {"unit": 3, "fault": {"kind": "silent"}}  set or (null) clear a fault -> "OK"
                            {"stats": true}   -> "STATS {"<unit>": requests seen, ...}"
  crc '<json frames>'     Prints, for each frame given as a hex string, the two CRC bytes pymodbus's
                          computeCRC gives it, in wire order (its RTU framer packs the value ">H").
  encode '<json cases>'   Encodes values with pymodbus's own BinaryPayloadBuilder and prints one JSON
                          array of register-word arrays, one per case, in the order given.

Image: {"holding": {"<addr>": [word, ...]}, "input": {...}, "coils": {"<addr>": [bool, ...]},
        "discrete": {...}, "size": {"holding": n, "input": n, "coils": n, "discrete": n}, "port": 0,
        "framing": "tcp" | "rtu"}
"framing": "rtu" serves Modbus RTU frames over TCP (a serial device server's framing); default "tcp".
Addresses are zero-based PDU addresses (zero_mode=True: pymodbus otherwise shifts every address by one).
Each table is one sequential block over [0, size); a read past it gets exception 2 (Illegal Data Address).

Bus: {"transport": "serial", "path": "/tmp/x/peer", "baudRate": 9600, "parity": "even",
      "dataBits": 8, "stopBits": 1, "units": {"1": <image>, "2": <image>}}
  or {"transport": "tcp", "port": 0, "units": {...}}
A unit's image may carry "fault": {"kind": ...}, per unit, applied to every answer it gives:
  silent              never answers (the request is seen and counted, nothing is sent)
  exception, code     answers every request with that Modbus exception code (default 4, device failure)
  slow, delayMs       answers correctly after delayMs; other units answer meanwhile, as on a real bus
  bad-crc             answers the right frame with its last CRC byte inverted
  garbage             answers GARBAGE (below), which is no RTU frame at all
A unit id missing from "units" is not on the bus: the RTU framer drops its requests, so it never answers.

Case: {"type": "float32", "value": "1.0", "order": "CDAB"}. The value travels as a string so 64-bit
integers keep every digit.
"""
import asyncio
import json
import logging
import os
import signal
import sys
import threading

from pymodbus.constants import Endian
from pymodbus.datastore import ModbusServerContext, ModbusSequentialDataBlock, ModbusSlaveContext
from pymodbus.framer.rtu_framer import ModbusRtuFramer
from pymodbus.payload import BinaryPayloadBuilder
from pymodbus.pdu import ExceptionResponse
from pymodbus.utilities import computeCRC
from pymodbus.server.async_io import (
    ModbusConnectedRequestHandler,
    ModbusSerialServer,
    ModbusSingleRequestHandler,
    ModbusTcpServer,
)

DEFAULT_SIZE = 65536

# Our order names (bytes of the value, most significant first, as they appear on the wire) mapped to
# pymodbus's two knobs: byte order inside each word, and word order across words.
ORDERS = {
    "ABCD": (Endian.Big, Endian.Big),
    "CDAB": (Endian.Big, Endian.Little),
    "BADC": (Endian.Little, Endian.Big),
    "DCBA": (Endian.Little, Endian.Little),
}

ADDERS = {
    "int16": ("add_16bit_int", int),
    "uint16": ("add_16bit_uint", int),
    "int32": ("add_32bit_int", int),
    "uint32": ("add_32bit_uint", int),
    "int64": ("add_64bit_int", int),
    "uint64": ("add_64bit_uint", int),
    "float16": ("add_16bit_float", float),
    "float32": ("add_32bit_float", float),
    "float64": ("add_64bit_float", float),
}


# What a "garbage" unit sends: not an RTU frame (no unit id we use, no valid CRC), 9 bytes.
GARBAGE = bytes([0xDE, 0xAD, 0xBE, 0xEF, 0x00, 0xFF, 0x55, 0xAA, 0x0D])

PARITIES = {"none": "N", "even": "E", "odd": "O"}


def block(table, image, default):
    size = int(image.get("size", {}).get(table, DEFAULT_SIZE))
    values = [default] * size
    for start, words in image.get(table, {}).items():
        for offset, word in enumerate(words):
            values[int(start) + offset] = word
    return ModbusSequentialDataBlock(0, values)


def slave_context(image):
    return ModbusSlaveContext(
        hr=block("holding", image, 0),
        ir=block("input", image, 0),
        co=block("coils", image, False),
        di=block("discrete", image, False),
        zero_mode=True,
    )


async def serve(image):
    context = ModbusServerContext(slaves=slave_context(image), single=True)
    framer = ModbusRtuFramer if image.get("framing") == "rtu" else None
    server = ModbusTcpServer(context, framer=framer, address=("127.0.0.1", int(image.get("port", 0))))
    task = asyncio.create_task(server.serve_forever())
    await server.serving
    port = server.server.sockets[0].getsockname()[1]
    print(f"READY {port}", flush=True)

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # A thread, because stdin EOF is the one signal that still arrives when the parent is killed hard.
    threading.Thread(target=lambda: (sys.stdin.read(), loop.call_soon_threadsafe(stop.set)), daemon=True).start()
    await stop.wait()
    await server.server_close()
    task.cancel()


def faulty_handler(base, faults, seen):
    """pymodbus's request handler with per-unit faults applied to what it sends, and requests counted."""

    class FaultyHandler(base):
        def execute(self, request, *addr):
            seen[request.unit_id] = seen.get(request.unit_id, 0) + 1
            super().execute(request, *addr)

        def send(self, message, *addr, **kwargs):
            fault = None if kwargs.get("skip_encoding") else faults.get(message.unit_id)
            if fault is None:
                return super().send(message, *addr, **kwargs)
            kind = fault["kind"]
            if kind == "silent":
                return None
            if kind == "exception":
                answer = ExceptionResponse(message.function_code & 0x7F, int(fault.get("code", 4)))
                answer.unit_id = message.unit_id
                answer.transaction_id = message.transaction_id
                return super().send(answer, *addr)
            if kind == "slow":
                parent = super().send
                asyncio.get_running_loop().call_later(float(fault["delayMs"]) / 1000, lambda: parent(message, *addr, **kwargs))
                return None
            if kind == "bad-crc":
                frame = bytearray(self.framer.buildPacket(message))
                frame[-1] ^= 0xFF
                return super().send(bytes(frame), *addr, skip_encoding=True)
            if kind == "garbage":
                return super().send(GARBAGE, *addr, skip_encoding=True)
            raise ValueError(f"unknown fault kind {kind!r}")

    return FaultyHandler


async def serve_rtu(bus):
    units = {int(unit): image for unit, image in bus["units"].items()}
    faults = {unit: image["fault"] for unit, image in units.items() if image.get("fault")}
    seen = {}
    context = ModbusServerContext(slaves={unit: slave_context(image) for unit, image in units.items()}, single=False)
    if bus["transport"] == "serial":
        parity = PARITIES[bus.get("parity", "even")]
        # A Linux pty carries no parity bit (the kernel clears PARENB on every set), and pyserial's
        # tcsetattr with even or odd parity on one fails with EINVAL; on a pty the framing is only a
        # setting, so the server opens it without parity and the other settings as asked.
        if os.path.realpath(bus["path"]).startswith("/dev/pts/"):
            parity = "N"
        server = ModbusSerialServer(
            context,
            framer=ModbusRtuFramer,
            port=bus["path"],
            baudrate=int(bus.get("baudRate", 9600)),
            parity=parity,
            bytesize=int(bus.get("dataBits", 8)),
            stopbits=int(bus.get("stopBits", 1)),
            handler=faulty_handler(ModbusSingleRequestHandler, faults, seen),
        )
        await server.start()
        if server.transport is None:
            sys.exit(f"cannot open serial port {bus['path']}")
        where = bus["path"]
    else:
        server = ModbusTcpServer(
            context,
            framer=ModbusRtuFramer,
            address=("127.0.0.1", int(bus.get("port", 0))),
            handler=faulty_handler(ModbusConnectedRequestHandler, faults, seen),
        )
        asyncio.create_task(server.serve_forever())
        await server.serving
        where = server.server.sockets[0].getsockname()[1]
    print(f"READY {where}", flush=True)

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    def command(line):
        request = json.loads(line)
        if "stats" in request:
            print("STATS " + json.dumps({str(unit): count for unit, count in seen.items()}), flush=True)
            return
        unit = int(request["unit"])
        if request.get("fault"):
            faults[unit] = request["fault"]
        else:
            faults.pop(unit, None)
        print("OK", flush=True)

    def read_commands():
        for line in sys.stdin:
            if line.strip():
                loop.call_soon_threadsafe(command, line)
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=read_commands, daemon=True).start()
    await stop.wait()
    if bus["transport"] == "serial":
        await server.shutdown()
    else:
        await server.server_close()


def crc(frames):
    out = []
    for frame in frames:
        value = computeCRC(bytes.fromhex(frame))
        out.append([value >> 8, value & 0xFF])
    print(json.dumps(out), flush=True)


def encode(cases):
    out = []
    for case in cases:
        byteorder, wordorder = ORDERS[case["order"]]
        method, parse = ADDERS[case["type"]]
        builder = BinaryPayloadBuilder(byteorder=byteorder, wordorder=wordorder)
        getattr(builder, method)(parse(case["value"]))
        out.append(builder.to_registers())
    print(json.dumps(out), flush=True)


def main():
    # pymodbus logs every client disconnect as an ERROR; only a crash is worth reading.
    logging.basicConfig(level=logging.CRITICAL, stream=sys.stderr)
    mode, payload = sys.argv[1], json.loads(sys.argv[2])
    if mode == "serve":
        asyncio.run(serve(payload))
    elif mode == "serve-rtu":
        asyncio.run(serve_rtu(payload))
    elif mode == "encode":
        encode(payload)
    elif mode == "crc":
        crc(payload)
    else:
        sys.exit(f"unknown mode {mode!r}: expected serve, serve-rtu, crc or encode")


if __name__ == "__main__":
    main()
