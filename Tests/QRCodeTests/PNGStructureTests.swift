import Foundation
import QRCode
import TestSupport
import Testing

/// Our PNG files checked by Python's standard library (struct, zlib), not by our own code: chunk layout and
/// CRCs, the zlib stream (zlib checks the Adler-32), the dimensions, and every pixel against `isDark`.
@Suite("PNG structure, checked by Python's zlib and struct")
struct PNGStructureTests {
    /// argv: PNG path, symbol size, quiet zone, scale. Prints `OK <width> <height> <depth> <IDAT count>`,
    /// then one line per module row, `1` for a dark module. Any failure exits non-zero with a reason.
    static let checker = #"""
        import struct, sys, zlib
        path = sys.argv[1]
        size, quiet, scale = (int(v) for v in sys.argv[2:5])
        data = open(path, 'rb').read()
        if data[:8] != b'\x89PNG\r\n\x1a\n': sys.exit('bad PNG signature')
        pos, chunks = 8, []
        while pos < len(data):
            if pos + 12 > len(data): sys.exit('truncated chunk header at %d' % pos)
            length, kind = struct.unpack('>I4s', data[pos:pos + 8])
            body = data[pos + 8:pos + 8 + length]
            if len(body) != length or pos + 12 + length > len(data): sys.exit('truncated %r chunk' % kind)
            (crc,) = struct.unpack('>I', data[pos + 8 + length:pos + 12 + length])
            if zlib.crc32(kind + body) & 0xffffffff != crc: sys.exit('bad CRC in %r chunk' % kind)
            chunks.append((kind, body))
            pos += 12 + length
        kinds = [k for k, _ in chunks]
        if kinds[0] != b'IHDR' or kinds[-1] != b'IEND' or kinds.count(b'IHDR') != 1 or kinds.count(b'IEND') != 1:
            sys.exit('bad chunk order %r' % kinds)
        if chunks[-1][1] != b'': sys.exit('IEND is not empty')
        idat = [i for i, k in enumerate(kinds) if k == b'IDAT']
        if not idat or idat != list(range(idat[0], idat[-1] + 1)): sys.exit('IDAT chunks missing or not consecutive')
        if len(chunks[0][1]) != 13: sys.exit('IHDR is not 13 bytes')
        width, height, depth, colour, compression, filtering, interlace = struct.unpack('>IIBBBBB', chunks[0][1])
        side = (size + 2 * quiet) * scale
        if (width, height) != (side, side): sys.exit('dimensions %dx%d, expected %dx%d' % (width, height, side, side))
        if colour != 0 or depth not in (1, 8): sys.exit('not 1- or 8-bit greyscale: depth %d colour %d' % (depth, colour))
        if (compression, filtering, interlace) != (0, 0, 0): sys.exit('unexpected compression/filter/interlace')
        inflater = zlib.decompressobj()
        raw = inflater.decompress(b''.join(chunks[i][1] for i in idat)) + inflater.flush()
        if not inflater.eof or inflater.unused_data: sys.exit('zlib stream incomplete or followed by garbage')
        stride = 1 + (width * depth + 7) // 8
        if len(raw) != height * stride: sys.exit('%d bytes of scanlines, expected %d' % (len(raw), height * stride))
        def row_bits(y):  # '1' for a black pixel
            if raw[y * stride] != 0: sys.exit('row %d uses filter %d' % (y, raw[y * stride]))
            row = raw[y * stride + 1:(y + 1) * stride]
            if depth == 8: return ''.join('1' if b < 128 else '0' for b in row)
            return ''.join('0' if (row[x >> 3] >> (7 - (x & 7))) & 1 else '1' for x in range(width))
        lines = []
        for my in range(size + 2 * quiet):
            bits = row_bits(my * scale)
            for dy in range(1, scale):
                if row_bits(my * scale + dy) != bits: sys.exit('module row %d is not uniform' % my)
            line = bits[::scale]
            if ''.join(c * scale for c in line) != bits: sys.exit('module row %d has ragged modules' % my)
            lines.append(line)
        print('OK', width, height, depth, len(idat))
        print('\n'.join(lines))
        """#

    struct Checked {
        let width: Int
        let depth: Int
        let modules: [String]
    }

    static func check(_ code: QRCode, scale: Int, quietZone: Int) throws -> Checked {
        try QRTestSupport.withTemporaryDirectory { directory in
            let path = directory + "/code.png"
            try Data(code.pngData(scale: scale, quietZone: quietZone)).write(to: URL(fileURLWithPath: path))
            let result = try TestTools.run(
                "python3", ["-c", checker, path, "\(code.size)", "\(quietZone)", "\(scale)"], timeout: 60)
            try #require(result.status == 0, "the PNG check failed: \(result.stderr)")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            let header = lines[0].split(separator: " ")
            try #require(header.count == 5 && header[0] == "OK", "unexpected checker output: \(lines[0])")
            return Checked(width: Int(header[1])!, depth: Int(header[3])!, modules: Array(lines.dropFirst()))
        }
    }

    static func expectFaithful(_ checked: Checked, _ code: QRCode, quietZone: Int) {
        let side = code.size + 2 * quietZone
        #expect(checked.modules.count == side)
        for (row, line) in checked.modules.enumerated() {
            let expected = String((0..<side).map { code.isDark(x: $0 - quietZone, y: row - quietZone) ? "1" : "0" })
            #expect(line == expected, "module row \(row) differs")
            if line != expected { return }
        }
    }

    @Test("chunks, CRCs, zlib stream, dimensions and every module", arguments: [(8, 4), (1, 0), (3, 1), (5, 10)])
    func structure(scale: Int, quietZone: Int) throws {
        let code = try QRCode(encoding: QRTestSupport.enrollmentURI().uriString)
        let checked = try Self.check(code, scale: scale, quietZone: quietZone)
        #expect(checked.width == (code.size + 2 * quietZone) * scale)
        #expect(checked.depth == 1)
        Self.expectFaithful(checked, code, quietZone: quietZone)
    }

    @Test("a stream longer than one stored deflate block (65535 bytes)")
    func multipleBlocks() throws {
        let code = try QRCode(encoding: String(repeating: "z", count: 2000), errorCorrection: .low)
        let scale = 8, quietZone = 4
        let side = (code.size + 2 * quietZone) * scale
        #expect(side * (1 + (side + 7) / 8) > 3 * 65535)
        let checked = try Self.check(code, scale: scale, quietZone: quietZone)
        #expect(checked.width == side)
        Self.expectFaithful(checked, code, quietZone: quietZone)
    }

    @Test("the default PNG: 8 pixels per module, 4 modules of quiet zone")
    func defaults() throws {
        let code = try QRCode(encoding: "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP")
        #expect(code.pngData() == code.pngData(scale: 8, quietZone: 4))
        let png = code.pngData()
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let width = png[16..<20].reduce(0) { $0 << 8 | Int($1) }
        #expect(width == (code.size + 8) * 8)
    }

    @Test("writePNG creates the file with mode 0600, replacing a readable one, and writes pngData")
    func writePNGMode() throws {
        let code = try QRCode(encoding: QRTestSupport.enrollmentURI().uriString)
        try QRTestSupport.withTemporaryDirectory { directory in
            let path = directory + "/enroll.png"
            // An existing world-readable file is replaced, not rewritten in place.
            try Data("old".utf8).write(to: URL(fileURLWithPath: path))
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
            try code.writePNG(to: path, scale: 3, quietZone: 2)
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            #expect(try Array(Data(contentsOf: URL(fileURLWithPath: path))) == code.pngData(scale: 3, quietZone: 2))
            // No temporary file is left behind.
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["enroll.png"])
        }
    }

    @Test("writePNG to a missing directory is an io error naming the path")
    func writePNGFailure() throws {
        let code = try QRCode(encoding: "hello")
        let path = "/nonexistent-\(UUID().uuidString)/code.png"
        #expect(throws: QRCodeError(.io)) { try code.writePNG(to: path) }
        do {
            try code.writePNG(to: path)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .io)
            #expect(error.message.contains("/nonexistent-") && error.message.contains("No such file or directory"))
        }
        #expect(throws: QRCodeError(.io)) { try code.writePNG(to: "") }
    }
}
