#!/usr/bin/python3
"""A virtual YubiKey 5 (1050:0407, OTP+FIDO+CCID) for libusb programs, emulated with umockdev.

The script builds a umockdev testbed holding one USB device (sysfs node + descriptors), attaches an
ioctl handler (UMockdev.IoctlBase) to its usbfs node, then runs COMMAND with the testbed's
environment (LD_PRELOAD of libumockdev-preload, UMOCKDEV_DIR) and exits with COMMAND's status.

libusb talks to usbfs with ioctls: SUBMITURB queues a transfer, REAPURB(NDELAY) collects finished
ones, DISCARDURB cancels (timeouts). The handler answers control transfers (string descriptors, HID
GET_REPORT/SET_REPORT feature reports of the OTP interface) and interrupt-IN transfers of the
keyboard endpoint (typed OTPs), and keeps kernel-driver state per interface (GETDRIVER,
DISCONNECT/CONNECT, DISCONNECT_CLAIM) so tests can see the driver was re-attached.

State (serial, slots, counters) persists in --state FILE between runs; --report FILE receives what
happened (drivers, detaches, unknown ioctls). Hostile --mode values: bad-crc, short-report,
stuck-touch, stuck-write, unplug, out-of-order, type-partial, type-garbage.

Usage: virtual_yubikey.py [options] -- COMMAND [ARGS...]
"""
import argparse
import errno
import hashlib
import hmac
import json
import os
import struct
import subprocess
import sys
import threading
import time

import gi

gi.require_version("UMockdev", "1.0")
from gi.repository import GLib, UMockdev  # noqa: E402

try:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
except ImportError:  # Yubico OTP typing needs it; everything else works without.
    Cipher = None


# --- usbfs ioctl numbers (x86-64 / aarch64 layout: 64-bit pointers) -------------------------------
def _ioc(direction, nr, size):
    return (direction << 30) | (size << 16) | (ord("U") << 8) | nr


URB_SIZE = 56  # struct usbdevfs_urb without iso descriptors
IOCTL_SUBMITURB = _ioc(2, 10, URB_SIZE)
IOCTL_DISCARDURB = _ioc(0, 11, 0)
IOCTL_REAPURB = _ioc(1, 12, 8)
IOCTL_REAPURBNDELAY = _ioc(1, 13, 8)
IOCTL_CLAIMINTERFACE = _ioc(2, 15, 4)
IOCTL_RELEASEINTERFACE = _ioc(2, 16, 4)
IOCTL_GETDRIVER = _ioc(1, 8, 260)
IOCTL_SETINTERFACE = _ioc(2, 4, 8)
IOCTL_SETCONFIGURATION = _ioc(2, 5, 4)
IOCTL_IOCTL = _ioc(3, 18, 16)
IOCTL_RESET = _ioc(0, 20, 0)
IOCTL_CLEAR_HALT = _ioc(2, 21, 4)
IOCTL_GET_CAPABILITIES = _ioc(2, 26, 4)
IOCTL_DISCONNECT_CLAIM = _ioc(2, 27, 264)
SUB_DISCONNECT = _ioc(0, 22, 0)
SUB_CONNECT = _ioc(0, 23, 0)
URB_TYPE_INTERRUPT, URB_TYPE_CONTROL = 1, 2
CAPS = 0x01 | 0x02 | 0x04 | 0x08 | 0x10  # zero packet, bulk continuation, no size limit, SG, reap after disconnect

MODHEX = "cbdefghijklnrtuv"


def crc16(data):
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc


def with_complement_crc(data):
    return bytes(data) + struct.pack("<H", ~crc16(data) & 0xFFFF)


def descriptors():
    """Device and configuration descriptors of a YubiKey 5 with OTP, FIDO and CCID interfaces."""
    device = bytes.fromhex("12010002000000405010070437050102000 1".replace(" ", ""))
    otp = bytes.fromhex("0904000001030101000921110100012247000705810308000a")
    fido = bytes.fromhex("0904010002030000000921110100012222000705040340000507058403400005")
    ccid_class = bytes([0x36, 0x21, 0x10, 0x01, 0x00, 0x07, 0x02, 0x00, 0x00, 0x00]) + bytes(44)
    ccid = bytes.fromhex("0904020003 0b000000".replace(" ", "")) + ccid_class + bytes.fromhex(
        "070502024000000705820240000007058303080 00a".replace(" ", ""))
    body = otp + fido + ccid
    config = bytes([9, 2]) + struct.pack("<H", 9 + len(body)) + bytes([3, 1, 0, 0x80, 0x0F]) + body
    return device + config


STRINGS = {1: "Yubico", 2: "YubiKey OTP+FIDO+CCID"}


class Slot:
    """A decoded 52-byte configuration record."""

    def __init__(self, record, access):
        self.record, self.access = bytes(record), bytes(access)
        self.fixed_size = record[44]
        self.fixed = record[0:self.fixed_size]
        self.uid, self.key = record[16:22], record[22:38]
        self.new_access = record[38:44]
        self.ext, self.tkt, self.cfg = record[45], record[46], record[47]

    @property
    def hmac_key(self):
        return self.key + self.uid[:4]

    @property
    def kind(self):
        if self.tkt & 0x40 and self.cfg & 0x22 == 0x22:
            return "chalresp"
        if self.tkt & 0x40:
            return "hotp"
        return "yubiotp"

    def to_json(self):
        return {"record": self.record.hex(), "access": self.access.hex()}


class VirtualYubiKey:
    def __init__(self, args, testbed, syspath):
        self.args, self.testbed, self.syspath = args, testbed, syspath
        self.lock = threading.RLock()
        self.mode = set(args.mode or [])
        self.serial, self.seq = args.serial, 0
        self.slots = {1: None, 2: None}
        self.hotp = {1: 0, 2: 0}
        self.usage = {1: 0, 2: 0}
        self.session = {1: 0, 2: 0}
        self.load()
        for slot in (1, 2):
            if self.slots[slot] is not None and self.slots[slot].kind == "yubiotp":
                self.usage[slot] += 1  # a power-up
        # usbfs side
        self.drivers = {0: "usbhid", 1: "usbhid", 2: None}
        self.claimed = set()
        self.detaches = self.attaches = 0
        self.unknown = []
        self.flying, self.done = [], []
        self.keyboard = []  # queued 8-byte input reports
        self.presses = 0  # button presses so far (at most --touches)
        self.gone = False
        self.writes = 0
        # OTP interface
        self.frame = bytearray(70)
        self.response, self.response_index = None, 0
        self.busy_reads = 0
        self.touch_polls = 0
        self.pending_touch = None  # response waiting for a touch

    # --- persistence ------------------------------------------------------------------------------
    def load(self):
        if not self.args.state or not os.path.exists(self.args.state):
            return
        with open(self.args.state) as f:
            state = json.load(f)
        self.serial = state.get("serial", self.serial)
        self.seq = state.get("seq", 0)
        for key in ("1", "2"):
            slot = state.get("slots", {}).get(key)
            self.slots[int(key)] = Slot(bytes.fromhex(slot["record"]), bytes.fromhex(slot["access"])) if slot else None
            self.hotp[int(key)] = state.get("hotp", {}).get(key, 0)
            self.usage[int(key)] = state.get("usage", {}).get(key, 0)

    def save(self):
        if self.args.state:
            state = {
                "serial": self.serial, "seq": self.seq,
                "slots": {str(k): (v.to_json() if v else None) for k, v in self.slots.items()},
                "hotp": {str(k): v for k, v in self.hotp.items()},
                "usage": {str(k): v for k, v in self.usage.items()},
            }
            with open(self.args.state, "w") as f:
                json.dump(state, f, indent=1)
        if self.args.report:
            with open(self.args.report, "w") as f:
                json.dump({
                    "drivers": {str(k): v for k, v in self.drivers.items()},
                    "detaches": self.detaches, "attaches": self.attaches,
                    "claimed": sorted(self.claimed), "unknown_ioctls": self.unknown,
                }, f, indent=1)

    # --- OTP interface state machine --------------------------------------------------------------
    def touch_level(self):
        level = 0
        for slot, bit in ((1, 0x01), (2, 0x02)):
            config = self.slots[slot]
            if config is not None:
                level |= bit
                if config.kind != "chalresp":
                    level |= bit << 2
        return level

    def status_report(self, flags=0):
        return bytes([0, 5, 4, 3, self.seq]) + struct.pack("<H", self.touch_level()) + bytes([flags])

    def get_report(self):
        if self.busy_reads > 0 or ("stuck-write" in self.mode and self.writes > 0):
            self.busy_reads = max(0, self.busy_reads - 1)
            return self.status_report(0x80)
        if self.pending_touch is not None:
            self.touch_polls += 1
            if "stuck-touch" in self.mode or self.touch_polls < 5:
                return self.status_report(0x20)
            self.start_response(self.pending_touch)
            self.pending_touch = None
        if self.response is not None:
            chunks = len(self.response) // 7
            index = self.response_index
            if index >= chunks:
                return bytes(7) + bytes([0x40])  # sequence back to 0: the response is complete
            if "out-of-order" in self.mode and index == 1:
                index = 2
            self.response_index += 1
            return self.response[index * 7:(index + 1) * 7] + bytes([0x40 | index])
        return self.status_report()

    def start_response(self, data):
        body = bytearray(with_complement_crc(data))
        if "bad-crc" in self.mode:
            body[-1] ^= 0x5A
        body += bytes(-len(body) % 7)
        self.response, self.response_index = bytes(body), 0

    def set_report(self, report):
        self.writes += 1
        if report[7] == 0x8F:
            self.response, self.response_index = None, 0
            return
        if not report[7] & 0x80:
            return
        index = report[7] & 0x7F
        if index > 9:
            return
        if index == 0:
            self.frame = bytearray(70)
        self.frame[index * 7:(index + 1) * 7] = report[:7]
        self.busy_reads = 1
        if index == 9:
            self.process_frame(bytes(self.frame))

    def process_frame(self, frame):
        payload, slot = frame[:64], frame[64]
        if struct.unpack("<H", frame[65:67])[0] != crc16(payload):
            return  # a real key ignores a frame with a bad CRC
        self.response, self.response_index = None, 0
        if slot == 0x10:
            self.start_response(struct.pack(">I", self.serial))
        elif slot in (0x01, 0x03):
            self.configure(1 if slot == 0x01 else 2, payload[:52], payload[52:58])
        elif slot in (0x30, 0x38):
            config = self.slots[1 if slot == 0x30 else 2]
            if config is None or config.kind != "chalresp":
                return
            challenge = payload
            if config.cfg & 0x04:  # HMAC_LT64: drop the trailing run of the last byte
                challenge = payload.rstrip(payload[-1:])
            answer = hmac.new(config.hmac_key, challenge, hashlib.sha1).digest()
            if config.cfg & 0x08:
                self.pending_touch, self.touch_polls = answer, 0
            else:
                self.start_response(answer)

    def configure(self, slot, record, access):
        current = self.slots[slot]
        if current is not None and current.new_access != access:
            return  # wrong access code: nothing changes
        if record == bytes(52):
            self.slots[slot] = None
        else:
            if crc16(record) != 0xF0B8:
                return
            self.slots[slot] = Slot(record, access)
            config = self.slots[slot]
            self.hotp[slot] = struct.unpack(">H", config.uid[4:6])[0] * 16 if config.kind == "hotp" else 0
            self.usage[slot], self.session[slot] = 0, 0
        self.seq = self.seq + 1 if any(self.slots.values()) else 0

    # --- typing ---------------------------------------------------------------------------------
    def press(self):
        slot = self.args.touch
        config = self.slots.get(slot)
        if config is None:
            return
        if config.kind == "hotp":
            digits = 8 if config.cfg & 0x02 else 6
            mac = hmac.new(config.hmac_key, struct.pack(">Q", self.hotp[slot]), hashlib.sha1).digest()
            offset = mac[-1] & 0x0F
            value = (struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 10 ** digits
            text = str(value).zfill(digits)
            self.hotp[slot] += 1
        elif config.kind == "yubiotp":
            self.session[slot] += 1
            block = config.uid + struct.pack("<H", self.usage[slot]) + struct.pack("<I", 0x123456)[:3]
            block += bytes([self.session[slot] & 0xFF]) + os.urandom(2)
            encryptor = Cipher(algorithms.AES(config.key), modes.ECB()).encryptor()
            cipher = encryptor.update(with_complement_crc(block)) + encryptor.finalize()
            text = "".join(MODHEX[b >> 4] + MODHEX[b & 15] for b in config.fixed + cipher)
        else:
            return
        if "type-garbage" in self.mode:
            self.keyboard += [bytes([0, 0, 0x3A, 0, 0, 0, 0, 0]), bytes(8)]
        usages = {c: 0x04 + i for i, c in enumerate("abcdefghijklmnopqrstuvwxyz")}
        usages.update({str(d): 0x1E + (d - 1) % 10 for d in range(1, 10)})
        usages["0"] = 0x27
        for character in text:
            self.keyboard += [bytes([0, 0, usages[character], 0, 0, 0, 0, 0]), bytes(8)]
        if "type-partial" in self.mode:
            self.keyboard = self.keyboard[:len(self.keyboard) // 2]
        else:
            self.keyboard += [bytes([0, 0, 0x28, 0, 0, 0, 0, 0]), bytes(8)]

    # --- usbfs ------------------------------------------------------------------------------------
    def unplug(self):
        if not self.gone:
            self.gone = True
            try:
                self.testbed.remove_device(self.syspath)
            except Exception:  # noqa: BLE001 - the device is gone either way
                pass

    def handle(self, handler, client):
        with self.lock:
            try:
                return self._handle(client)
            except Exception as error:  # noqa: BLE001 - never leave a client hanging
                print(f"virtual-yubikey: {error!r}", file=sys.stderr)
                client.complete(-1, errno.EIO)
                return True

    def _handle(self, client):
        request, arg = client.get_request(), client.get_arg()
        if self.gone and request not in (IOCTL_RELEASEINTERFACE, IOCTL_DISCARDURB):
            if request in (IOCTL_REAPURB, IOCTL_REAPURBNDELAY) and self.done:
                return self.reap(client, arg)
            client.complete(-1, errno.ENODEV)
            return True
        if request == IOCTL_GET_CAPABILITIES:
            arg.resolve(0, 4).update(0, struct.pack("<I", CAPS))
        elif request in (IOCTL_CLAIMINTERFACE, IOCTL_RELEASEINTERFACE):
            number = struct.unpack("<I", bytes(arg.resolve(0, 4).retrieve()))[0]
            if request == IOCTL_CLAIMINTERFACE:
                if self.drivers.get(number) not in (None, "usbfs"):
                    client.complete(-1, errno.EBUSY)
                    return True
                self.claimed.add(number)
                self.drivers[number] = "usbfs"
            else:
                self.claimed.discard(number)
                if self.drivers.get(number) == "usbfs":
                    self.drivers[number] = None
        elif request == IOCTL_GETDRIVER:
            data = arg.resolve(0, 260)
            number = struct.unpack("<I", bytes(data.retrieve())[:4])[0]
            driver = self.drivers.get(number)
            if driver is None:
                client.complete(-1, errno.ENODATA)
                return True
            data.update(4, driver.encode() + b"\0")
        elif request == IOCTL_DISCONNECT_CLAIM:
            raw = bytes(arg.resolve(0, 264).retrieve())
            number, flags = struct.unpack("<II", raw[:8])
            name = raw[8:].split(b"\0")[0].decode()
            driver = self.drivers.get(number)
            if driver not in (None, "usbfs") and not (flags & 2 and driver == name):
                self.detaches += 1
            self.drivers[number] = "usbfs"
            self.claimed.add(number)
        elif request == IOCTL_IOCTL:
            number, code = struct.unpack("<ii", bytes(arg.resolve(0, 16).retrieve())[:8])
            if code == SUB_DISCONNECT:
                if self.drivers.get(number) in (None, "usbfs"):
                    client.complete(-1, errno.ENODATA)
                    return True
                self.drivers[number] = None
                self.detaches += 1
            elif code == SUB_CONNECT:
                if number in (0, 1) and self.drivers.get(number) is None:
                    self.drivers[number] = "usbhid"
                    self.attaches += 1
                client.complete(1, 0)
                return True
        elif request in (IOCTL_SETINTERFACE, IOCTL_SETCONFIGURATION, IOCTL_RESET, IOCTL_CLEAR_HALT):
            pass
        elif request == IOCTL_SUBMITURB:
            return self.submit(client, arg)
        elif request in (IOCTL_REAPURB, IOCTL_REAPURBNDELAY):
            return self.reap(client, arg)
        elif request == IOCTL_DISCARDURB:
            address = struct.unpack("<Q", bytes(arg.retrieve())[:8])[0]
            for urb in self.flying:
                if urb[0].client_addr == address:
                    self.flying.remove(urb)
                    self.done.append((urb[0], urb[1], -errno.ENOENT, 0))
                    break
            else:
                client.complete(-1, errno.EINVAL)
                return True
        else:
            self.unknown.append(hex(request))
            client.complete(-1, errno.ENOTTY)
            return True
        client.complete(0, 0)
        return True

    def submit(self, client, arg):
        urb = arg.resolve(0, URB_SIZE)
        raw = bytes(urb.retrieve())
        kind, endpoint = raw[0], raw[1]
        length = struct.unpack_from("<i", raw, 24)[0]
        buffer = urb.resolve(16, length)
        data = bytes(buffer.retrieve())
        if kind == URB_TYPE_CONTROL:
            status, answer = self.control(data[:8], data[8:])
            if answer:
                buffer.update(8, answer)
            # IN transfers report the bytes returned; OUT transfers the bytes taken (all of them).
            taken = len(answer) if data[0] & 0x80 else len(data) - 8
            self.done.append((urb, buffer, status, taken if status == 0 else 0))
        elif kind == URB_TYPE_INTERRUPT and endpoint == 0x81:
            # The button is pressed when the host waits for typing and nothing is queued any more,
            # up to --touches times (a second capture after the first line gets a second OTP).
            if self.args.touch and self.presses < self.args.touches and not self.keyboard:
                self.presses += 1
                self.press()
            self.flying.append((urb, buffer))
            self.feed_keyboard()
        else:
            self.flying.append((urb, buffer))  # other endpoints never answer
        client.complete(0, 0)
        return True

    def feed_keyboard(self):
        while self.keyboard and any(u[0] is not None for u in self.flying):
            urb, buffer = self.flying.pop(0)
            report = self.keyboard.pop(0)
            buffer.update(0, report)
            self.done.append((urb, buffer, 0, len(report)))

    def reap(self, client, arg):
        if not self.done:
            # The emulated node is a socket, always writable, so libusb's poll for POLLOUT returns at
            # once and it reaps again: without a pause, waiting for a transfer spins both processes.
            time.sleep(0.004)
            client.complete(-1, errno.EAGAIN)
            return True
        urb, _buffer, status, actual = self.done.pop(0)
        urb.update(4, struct.pack("<i", status))
        urb.update(28, struct.pack("<i", actual))
        arg.resolve(0, 8).set_ptr(0, urb)
        client.complete(0, 0)
        return True

    def control(self, setup, data):
        request_type, request, value, index, length = struct.unpack("<BBHHH", setup)
        if "unplug" in self.mode and request_type == 0x21 and self.writes >= 1:
            self.unplug()
            return -errno.ENODEV, b""
        if request_type == 0x80 and request == 6:  # GET_DESCRIPTOR
            kind, number = value >> 8, value & 0xFF
            if kind == 3 and number == 0:
                return 0, bytes([4, 3, 0x09, 0x04])[:length]
            if kind == 3 and number in STRINGS:
                text = STRINGS[number].encode("utf-16-le")
                return 0, (bytes([2 + len(text), 3]) + text)[:length]
            if kind == 1:
                return 0, descriptors()[:18][:length]
            if kind == 2:
                return 0, descriptors()[18:][:length]
            return -errno.EPIPE, b""
        if request_type == 0xA1 and request == 0x01 and value == 0x0300 and index == 0:
            report = self.get_report()
            if "short-report" in self.mode:
                report = report[:5]
            return 0, report[:length]
        if request_type == 0x21 and request == 0x09 and value == 0x0300 and index == 0:
            if len(data) == 8:
                self.set_report(data)
            return 0, b""
        return -errno.EPIPE, b""


def main():
    parser = argparse.ArgumentParser(description="Run COMMAND next to a virtual YubiKey (umockdev).")
    parser.add_argument("--state", help="JSON file keeping serial, slots and counters between runs")
    parser.add_argument("--report", help="JSON file receiving driver state and unknown ioctls at exit")
    parser.add_argument("--serial", type=int, default=12345678)
    parser.add_argument("--mode", action="append", help="hostile behaviour (repeatable)")
    parser.add_argument("--touch", type=int, choices=(1, 2), help="press the button for this slot when typing is awaited")
    parser.add_argument("--touches", type=int, default=1, help="how many times the button is pressed (once per awaited line)")
    parser.add_argument("--timeout", type=float, default=60, help="kill COMMAND after this many seconds")
    parser.add_argument("--replug-after", type=float, help="unplug the key after this many seconds, plug it back in one second later")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no COMMAND given")
    preload = "libumockdev-preload.so.0"
    if args.replug_after is not None and preload not in os.environ.get("LD_PRELOAD", ""):
        # umockdev delivers uevents only from a process that runs under its preload library.
        environment = dict(os.environ, LD_PRELOAD=preload)
        os.execve(sys.executable, [sys.executable] + sys.argv, environment)

    testbed = UMockdev.Testbed.new()
    handler = UMockdev.IoctlBase()
    syspath = "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1"
    key = VirtualYubiKey(args, testbed, syspath)
    handler.connect("handle-ioctl", key.handle)
    # Attach the handler before the device exists, so the node is emulated from its first open.
    testbed.attach_ioctl("/dev/bus/usb/001/002", handler)
    device_description = (
        "P: /devices/pci0000:00/0000:00:14.0/usb1/1-1\n"
        "N: bus/usb/001/002\n"
        "E: SUBSYSTEM=usb\nE: DEVTYPE=usb_device\nE: DRIVER=usb\n"
        "E: BUSNUM=001\nE: DEVNUM=002\nE: DEVNAME=/dev/bus/usb/001/002\n"
        "E: ID_VENDOR_ID=1050\nE: ID_MODEL_ID=0407\n"
        "A: busnum=1\\n\nA: devnum=2\\n\nA: speed=12\\n\nA: bConfigurationValue=1\\n\n"
        "A: idVendor=1050\\n\nA: idProduct=0407\\n\n"
        "H: descriptors=" + descriptors().hex() + "\n")
    testbed.add_from_string(device_description)

    environment = dict(os.environ)
    if preload not in environment.get("LD_PRELOAD", ""):
        environment["LD_PRELOAD"] = preload + (":" + environment["LD_PRELOAD"] if environment.get("LD_PRELOAD") else "")
    environment["UMOCKDEV_DIR"] = testbed.get_root_dir()

    loop = GLib.MainLoop()
    result = {"status": 2}

    def run():
        try:
            child = subprocess.Popen(command, env=environment)
            try:
                result["status"] = child.wait(timeout=args.timeout)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
                print(f"virtual-yubikey: {command[0]} did not finish within {args.timeout} s", file=sys.stderr)
                result["status"] = 124
        finally:
            GLib.idle_add(loop.quit)

    threading.Thread(target=run, daemon=True).start()
    if args.replug_after is not None:
        # Hotplug: a remove uevent and the device gone, then the device back and an add uevent
        # (on the GLib loop, the thread that owns the testbed).
        def unplug():
            testbed.uevent(syspath, "remove")
            testbed.remove_device(syspath)
            GLib.timeout_add(1000, replug)
            return False

        def replug():
            testbed.add_from_string(device_description)
            testbed.uevent(syspath, "add")
            return False

        GLib.timeout_add(int(args.replug_after * 1000), unplug)
    loop.run()
    with key.lock:
        key.save()
    status = result["status"]
    sys.exit(status if status >= 0 else 128 - status)


if __name__ == "__main__":
    main()
