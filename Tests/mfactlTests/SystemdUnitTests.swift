import Foundation
import TestSupport
import Testing

/// Issue 17: the systemd unit in `Docs/deploy/` is one systemd accepts without a warning, sandboxed
/// (`systemd-analyze security` rates it OK), and starts the service the way this build runs it.
@Suite("Docs/deploy/mfa-bridge.service: systemd-analyze verify and security")
struct SystemdUnitTests {
    static let unit = TestTools.packageRoot.appendingPathComponent("Docs/deploy/mfa-bridge.service")

    /// The unit with its ExecStart pointed at this build's mfactl (systemd checks the binary exists).
    static func installedCopy() throws -> String {
        let text = try String(contentsOf: unit, encoding: .utf8)
        #expect(text.contains("ExecStart=/usr/local/bin/mfactl serve "))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mfa-unit-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("mfa-bridge.service").path
        try text.replacingOccurrences(of: "/usr/local/bin/mfactl", with: TestTools.product("mfactl")).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("verify: no error and no warning; the sandboxing the issue asks for is there")
    func verify() async throws {
        let path = try Self.installedCopy()
        let r = try await TestTools.run("systemd-analyze", ["verify", path])
        #expect(r.status == 0 && r.stderr.isEmpty && r.stdout.isEmpty, "\(r.status) \(r.stdout) \(r.stderr)")
        let text = try String(contentsOf: Self.unit, encoding: .utf8)
        for line in ["Type=notify", "DynamicUser=yes", "StateDirectory=mfa-bridge", "ProtectSystem=strict", "NoNewPrivileges=yes",
                     "AmbientCapabilities=CAP_NET_BIND_SERVICE", "CapabilityBoundingSet=CAP_NET_BIND_SERVICE", "Environment=MFA_DATA_DIR=%S/mfa-bridge",
                     "ExecReload=/bin/kill -HUP $MAINPID"] {
            #expect(text.split(separator: "\n").contains { $0 == line }, "missing \(line)")
        }
        // Every option the unit passes is one serve takes (a renamed flag would fail at start).
        let help = try await TestTools.run(TestTools.product("mfactl"), ["serve", "--help"]).stdout
        for flag in ["--config", "--listen", "--tls-cert", "--tls-key", "--admin-key-file"] { #expect(help.contains(flag), "\(flag)") }
    }

    @Test("security: the exposure level systemd computes is at most 2.0 (OK)")
    func exposure() async throws {
        let path = try Self.installedCopy()
        let r = try await TestTools.run("systemd-analyze", ["security", "--offline=yes", "--no-pager", path])
        let line = try #require(r.stdout.split(separator: "\n").first { $0.contains("Overall exposure level") }, "\(r.stdout) \(r.stderr)")
        let level = try #require(line.split(separator: " ").compactMap { Double($0) }.first, "\(line)")
        #expect(level <= 2.0, "\(line)")
    }
}
