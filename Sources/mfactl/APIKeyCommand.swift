import ArgumentParser
import Foundation
import MFA
import MFAServer

/// `mfactl api-key create|list|revoke`: on the local store, or on a server (`--server`, admin scope).
struct APIKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api-key", abstract: "Manage API keys (admin, technician, verifier, metrics scopes), locally or with --server.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an API key; its token is printed once.",
            discussion: "Names are unique among keys not revoked. The token is never stored (only its hash): keep it now.")
        @OptionGroup var backend: BackendOptions
        @Option(help: "A name unique among active keys (1-64 printable characters).") var name: String
        @Option(help: "admin, technician, verifier or metrics (repeatable).") var scope: [String]
        @Option(help: "Expire after this long: 90d, 12h, 30m, 45s (up to 10 years). Default: never.") var expires: String?
        @Flag(help: "Print JSON (the key and its token).") var json = false

        func run() async throws {
            try await CLIOutput.run {
                let scopes = try scope.map { text -> Scope in
                    guard let s = Scope(rawValue: text) else { throw CLIError("unknown scope '\(text)': admin, technician, verifier or metrics") }
                    return s
                }
                guard !scopes.isEmpty else { throw CLIError("give at least one --scope: admin, technician, verifier or metrics") }
                var lifetime: Int64?
                if let expires {
                    guard let seconds = SecondsText.parse(expires), seconds > 0 else {
                        throw CLIError("--expires takes a duration such as 90d, 12h, 30m or 45s, not '\(expires)'")
                    }
                    lifetime = seconds
                }
                let created = try await backend.backend().createAPIKey(name: name, scopes: scopes, lifetime: lifetime)
                if json { try CLIOutput.printJSON(created); return }
                let expiry = created.key.expiresAt.map { ", expires \(CLIOutput.isoTime($0))" } ?? ""
                print("API key \(created.key.id) '\(created.key.name)' (\(created.key.scopes.joined(separator: ",")))\(expiry) — shown once:")
                print(created.token)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List API keys: id, name, scopes, state, created, expires, last used (never a secret).")
        @OptionGroup var backend: BackendOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await CLIOutput.run {
                let keys = try await backend.backend(readOnly: true).apiKeys()
                if json { try CLIOutput.printJSON(APIKeyList(keys: keys)); return }
                if keys.isEmpty { print("no API keys"); return }
                var table = TextTable("ID", "NAME", "SCOPES", "STATE", "CREATED", "EXPIRES", "LAST USED")
                for k in keys {
                    table.add(k.id, k.name, k.scopes.joined(separator: ","), k.state, CLIOutput.isoTime(k.createdAt),
                              k.expiresAt.map(CLIOutput.isoTime) ?? "never", k.lastUsedAt.map(CLIOutput.isoTime) ?? "never")
                }
                table.print()
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an API key at once (idempotent: an already revoked key is success).")
        @OptionGroup var backend: BackendOptions
        @Option(help: "The key's id (from api-key list).") var id: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await CLIOutput.run {
                let revokedNow = try await backend.backend().revokeAPIKey(id: id)
                if json { try CLIOutput.printJSON(StatusResponse(status: revokedNow ? "revoked" : "already-revoked")); return }
                print(revokedNow ? "revoked \(id)" : "\(id) was already revoked (nothing changed)")
            }
        }
    }
}
