import Foundation
import TestSupport
import Testing

/// Several server processes on one PostgreSQL, and a server killed with SIGKILL under load.
@Suite("Service resilience: two processes, one store; kill -9")
struct ServiceResilienceTests {
    typealias Server = ServiceEndToEndTests.Server

    /// POSTs a verify with curl; returns the result field.
    static func verify(_ url: String, token: String, user: String, code: String) async throws -> String {
        let out = try await TestTools.run(
            "curl", ["-s", "-m", "30", "-X", "POST", url + "/v1/verify", "-H", "Authorization: Bearer \(token)", "-H", "Content-Type: application/json",
                     "-d", "{\"user\":\"\(user)\",\"code\":\"\(code)\"}"]).stdout
        return ((try? JSONSerialization.jsonObject(with: Data(out.utf8))) as? [String: Any])?["result"] as? String ?? "error: \(out)"
    }

    @Test("two server processes on one PostgreSQL: the same valid code sent to both concurrently is accepted exactly once")
    func twoProcesses() async throws {
        let base = try #require(ProcessInfo.processInfo.environment["MFA_TEST_POSTGRES_URL"], "MFA_TEST_POSTGRES_URL is not set")
        let schema = "two_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let first = try await Server(.postgres, extra: ["--totp-window", "2"], dbOverride: base + "?schema=" + schema)
        let second = try await Server(.postgres, extra: ["--totp-window", "2"], dbOverride: base + "?schema=" + schema, keyFile: first.keyFile)
        // Stopped here, not only when the objects go: a test process that exits first leaves no server behind.
        defer {
            second.process.stop()
            first.process.stop()
        }
        // The second process sees the first one's API key: one store.
        let created = try await first.json(["mfa", "create-virtual", "--user", "zoe"])
        let serial = try #require(created["serial"] as? String)
        let secret = try #require(created["secret"] as? String)
        let t0 = ServiceEndToEndTests.now
        await #expect(try first.mfactl(["mfa", "enable", "--user", "zoe", "--serial", serial,
                                  "--code1", ServiceEndToEndTests.oathtool(secret, at: t0 - 30), "--code2", ServiceEndToEndTests.oathtool(secret, at: t0)]).status == 0)
        for round in 1...2 {
            let code = try await ServiceEndToEndTests.oathtool(secret, at: t0 + 30 * Int64(round))
            let results = try await withThrowingTaskGroup(of: String.self) { group in
                for i in 0..<20 {
                    let server = i % 2 == 0 ? first : second
                    let (url, token) = (server.url, first.token)
                    group.addTask { try await Self.verify(url, token: token, user: "zoe", code: code) }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(results.filter { $0 == "accepted" }.count == 1, "round \(round): \(results)")
            #expect(results.filter { $0 == "rejected" }.count == 19, "round \(round): \(results)")
        }
    }

    @Test("kill -9 under load, restart: no code accepted before the crash is accepted again, no device lost")
    func crash() async throws {
        // The first server object stays alive to the end: its temporary directory holds the database.
        let first = try await Server(.sqlite, extra: ["--totp-window", "1"])
        let server: Server? = first
        let db = first.db
        let keyFile = first.keyFile
        let token = first.token
        // Ten users, each with an enabled device and one accepted code.
        var accepted: [(user: String, code: String)] = []
        let t0 = ServiceEndToEndTests.now
        for i in 0..<10 {
            let user = "user\(i)"
            let created = try await server!.json(["mfa", "create-virtual", "--user", user])
            let secret = try #require(created["secret"] as? String)
            let serial = try #require(created["serial"] as? String)
            await #expect(try server!.mfactl(["mfa", "enable", "--user", user, "--serial", serial,
                                        "--code1", ServiceEndToEndTests.oathtool(secret, at: t0 - 30), "--code2", ServiceEndToEndTests.oathtool(secret, at: t0)]).status == 0)
            let code = try await ServiceEndToEndTests.oathtool(secret, at: t0 + 30)
            accepted.append((user, code))
        }
        // Load: every code accepted while wrong codes keep the writer busy; then SIGKILL mid-stream.
        let url = server!.url
        let load = Task.detached {
            for _ in 0..<200 { _ = try? await Self.verify(url, token: token, user: "user0", code: "000000") }
        }
        for (user, code) in accepted { await #expect(try Self.verify(url, token: token, user: user, code: code) == "accepted") }
        kill(server!.process.process.processIdentifier, SIGKILL)
        load.cancel()
        server!.process.process.waitUntilExit()
        // Restart on the same files: the devices are there and every accepted code stays used.
        let restarted = try await Server(.sqlite, dbOverride: db, keyFile: keyFile)
        defer { restarted.process.stop() }
        for (user, code) in accepted {
            await #expect(try Self.verify(restarted.url, token: token, user: user, code: code) == "rejected", "\(user)'s code was accepted twice")
        }
        let rows = try await restarted.mfactl(["report", "credentials", "--format", "csv"]).stdout.split(separator: "\n")
        #expect(rows.count == 11)
        await #expect(try restarted.mfactl(["audit", "verify"]).status == 0)
        withExtendedLifetime(first) {}
    }
}
