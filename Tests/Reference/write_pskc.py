#!/usr/bin/env python3
"""Writes a PSKC file with python-pskc (Debian python3-pskc), the independent writer the import is
tested against.

usage: write_pskc.py MODE OUTPUT [SECRET]
  MODE: plain | psk | psk-aes256 | kw | pbkdf2
  SECRET: the pre-shared key in hex (psk, psk-aes256, kw) or the passphrase (pbkdf2)
The tokens come as JSON on stdin: [{"serial", "seed_hex", "type": "hotp"|"totp", "digits",
"counter", "period", "suite"}].
"""
import json
import sys

import pskc

HOTP = 'urn:ietf:params:xml:ns:keyprov:pskc:hotp'
TOTP = 'urn:ietf:params:xml:ns:keyprov:pskc#totp'


def main():
    mode, output = sys.argv[1], sys.argv[2]
    secret = sys.argv[3] if len(sys.argv) > 3 else None
    container = pskc.PSKC()
    for token in json.load(sys.stdin):
        key = container.add_key(
            serial=token['serial'], id=token['serial'], manufacturer='python-pskc',
            secret=bytes.fromhex(token['seed_hex']),
            algorithm=HOTP if token['type'] == 'hotp' else TOTP,
            response_length=token.get('digits', 6))
        if token['type'] == 'hotp':
            key.counter = token.get('counter', 0)
        else:
            key.time_interval = token.get('period', 30)
            key.time_offset = 0
        if token.get('suite'):
            key.algorithm_suite = token['suite']
    if mode == 'psk':
        container.encryption.setup_preshared_key(key=bytes.fromhex(secret), key_name='Pre-shared-key')
    elif mode == 'psk-aes256':
        container.encryption.setup_preshared_key(
            key=bytes.fromhex(secret), key_name='Pre-shared-key', algorithm='aes256-cbc')
        container.mac.setup(algorithm='hmac-sha256')
    elif mode == 'kw':
        container.encryption.setup_preshared_key(
            key=bytes.fromhex(secret), key_name='Pre-shared-key', algorithm='kw-aes128')
    elif mode == 'pbkdf2':
        container.encryption.setup_pbkdf2(secret, iterations=2000)
    elif mode != 'plain':
        sys.exit('unknown mode ' + mode)
    container.write(output)


if __name__ == '__main__':
    main()
