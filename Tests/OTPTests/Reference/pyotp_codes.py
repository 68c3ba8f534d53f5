#!/usr/bin/env python3
"""Reference codes from pyotp for the differential tests.

stdin: one case per line, "TYPE HEXKEY ALGORITHM DIGITS VALUE PERIOD"
  TYPE hotp (VALUE = counter) or totp (VALUE = unix time, PERIOD seconds)
stdout: one zero-padded code per line, same order.
"""
import base64
import hashlib
import sys

import pyotp

class RawSecret:
    """pyotp >= 2.9 refuses secrets under 112 bits; the tests also cover 10-13 byte keys (RFC 4226
    allows 128 bits minimum but real tokens ship 80-bit seeds). Only that policy check is bypassed:
    the HMAC, truncation and time-step code that produces the codes is pyotp's own."""

    def byte_secret(self):
        return self._raw


class HOTP(RawSecret, pyotp.HOTP):
    def __init__(self, raw, **kwargs):
        self._raw = raw
        super().__init__(base64.b32encode(raw).decode(), **kwargs)


class TOTP(RawSecret, pyotp.TOTP):
    def __init__(self, raw, **kwargs):
        self._raw = raw
        super().__init__(base64.b32encode(raw).decode(), **kwargs)


DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}

out = []
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    kind, hexkey, algorithm, digits, value, period = line.split()
    raw = bytes.fromhex(hexkey)
    digest = DIGESTS[algorithm]
    if kind == "hotp":
        code = HOTP(raw, digits=int(digits), digest=digest).at(int(value))
    else:
        code = TOTP(raw, digits=int(digits), digest=digest, interval=int(period)).at(int(value))
    out.append(code)
sys.stdout.write("\n".join(out) + "\n")
