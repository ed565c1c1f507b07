"""Modbus frames built by pymodbus (Debian's python3-pymodbus 3.0) for tests: requests and responses
of the read and write functions, framed by pymodbus's own RTU or socket (Modbus TCP) framer, so that
what the modbus plugin builds and checks is compared with another implementation's bytes.

Usage: pymodbus_frames.py '<json list of frame specs>'; prints a JSON list of hex strings.
A spec: {"framing": "rtu"|"tcp", "tid": n, "unit": n, "kind": ..., ...arguments of the kind}.
"""
import json
import sys

from pymodbus.bit_read_message import ReadCoilsRequest, ReadDiscreteInputsRequest, ReadCoilsResponse
from pymodbus.bit_write_message import (
    WriteSingleCoilRequest, WriteSingleCoilResponse, WriteMultipleCoilsRequest, WriteMultipleCoilsResponse,
)
from pymodbus.factory import ClientDecoder
from pymodbus.framer.rtu_framer import ModbusRtuFramer
from pymodbus.framer.socket_framer import ModbusSocketFramer
from pymodbus.pdu import ExceptionResponse
from pymodbus.register_read_message import (
    ReadHoldingRegistersRequest, ReadInputRegistersRequest, ReadHoldingRegistersResponse,
)
from pymodbus.register_write_message import (
    WriteSingleRegisterRequest, WriteSingleRegisterResponse, WriteMultipleRegistersRequest,
    WriteMultipleRegistersResponse, MaskWriteRegisterRequest, MaskWriteRegisterResponse,
)
from pymodbus.utilities import computeCRC

READS = {1: ReadCoilsRequest, 2: ReadDiscreteInputsRequest, 3: ReadHoldingRegistersRequest, 4: ReadInputRegistersRequest}


def message(spec):
    kind, unit = spec["kind"], spec["unit"]
    a = spec.get("address", 0)
    if kind == "read":
        return READS[spec["function"]](a, spec["count"], unit=unit)
    if kind == "read_registers_response":
        return ReadHoldingRegistersResponse(spec["values"], unit=unit)
    if kind == "read_coils_response":
        return ReadCoilsResponse(spec["bits"], unit=unit)
    if kind == "write_coil":
        return WriteSingleCoilRequest(a, spec["on"], unit=unit)
    if kind == "write_coil_response":
        return WriteSingleCoilResponse(a, spec["on"], unit=unit)
    if kind == "write_coils":
        return WriteMultipleCoilsRequest(a, spec["bits"], unit=unit)
    if kind == "write_coils_response":
        return WriteMultipleCoilsResponse(a, spec["count"], unit=unit)
    if kind == "write_register":
        return WriteSingleRegisterRequest(a, spec["value"], unit=unit)
    if kind == "write_register_response":
        return WriteSingleRegisterResponse(a, spec["value"], unit=unit)
    if kind == "write_registers":
        return WriteMultipleRegistersRequest(a, spec["values"], unit=unit)
    if kind == "write_registers_response":
        return WriteMultipleRegistersResponse(a, spec["count"], unit=unit)
    if kind == "mask_write":
        return MaskWriteRegisterRequest(a, spec["and_mask"], spec["or_mask"], unit=unit)
    if kind == "mask_write_response":
        return MaskWriteRegisterResponse(a, spec["and_mask"], spec["or_mask"], unit=unit)
    if kind == "exception":
        return ExceptionResponse(spec["function"], spec["code"], unit=unit)
    sys.exit(f"unknown kind {kind!r}")


def frame(spec):
    if spec["kind"] == "crc":
        # computeCRC gives the two CRC bytes in wire order as one big-endian number.
        return computeCRC(bytes.fromhex(spec["data"])).to_bytes(2, "big")
    msg = message(spec)
    msg.transaction_id = spec.get("tid", 0)
    framer = ModbusRtuFramer(ClientDecoder()) if spec["framing"] == "rtu" else ModbusSocketFramer(ClientDecoder())
    return framer.buildPacket(msg)


def main():
    print(json.dumps([frame(s).hex() for s in json.loads(sys.argv[1])]), flush=True)


if __name__ == "__main__":
    main()
