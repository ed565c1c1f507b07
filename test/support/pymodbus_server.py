"""An independent Modbus peer for wasmgate's interop tests, built on Debian's python3-pymodbus 3.0.

Two modes, both driven by test/support/pymodbus.ts:

  serve '<json image>'    Modbus TCP server on 127.0.0.1, port 0 unless the image names one.
                          Prints "READY <port>" on stdout once it accepts connections, then serves
                          until SIGTERM/SIGINT or until stdin reaches EOF (so it never outlives the
                          test process that spawned it).
  encode '<json cases>'   Encodes values with pymodbus's own BinaryPayloadBuilder and prints one JSON
                          array of register-word arrays, one per case, in the order given.

Image: {"holding": {"<addr>": [word, ...]}, "input": {...}, "coils": {"<addr>": [bool, ...]},
        "discrete": {...}, "size": {"holding": n, "input": n, "coils": n, "discrete": n}, "port": 0,
        "framing": "tcp" | "rtu"}
"framing": "rtu" serves Modbus RTU frames over TCP (a serial device server's framing); default "tcp".
Addresses are zero-based PDU addresses (zero_mode=True: pymodbus otherwise shifts every address by one).
Each table is one sequential block over [0, size); a read past it gets exception 2 (Illegal Data Address).

Case: {"type": "float32", "value": "1.0", "order": "CDAB"}. The value travels as a string so 64-bit
integers keep every digit.
"""
import asyncio
import json
import logging
import signal
import sys
import threading

from pymodbus.constants import Endian
from pymodbus.datastore import ModbusServerContext, ModbusSequentialDataBlock, ModbusSlaveContext
from pymodbus.payload import BinaryPayloadBuilder
from pymodbus.framer.rtu_framer import ModbusRtuFramer
from pymodbus.server.async_io import ModbusTcpServer

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


def block(table, image, default):
    size = int(image.get("size", {}).get(table, DEFAULT_SIZE))
    values = [default] * size
    for start, words in image.get(table, {}).items():
        for offset, word in enumerate(words):
            values[int(start) + offset] = word
    return ModbusSequentialDataBlock(0, values)


async def serve(image):
    slave = ModbusSlaveContext(
        hr=block("holding", image, 0),
        ir=block("input", image, 0),
        co=block("coils", image, False),
        di=block("discrete", image, False),
        zero_mode=True,
    )
    context = ModbusServerContext(slaves=slave, single=True)
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
    elif mode == "encode":
        encode(payload)
    else:
        sys.exit(f"unknown mode {mode!r}: expected serve or encode")


if __name__ == "__main__":
    main()
