import ArgumentParser
import Foundation
import MFA
import OTP
import TokenDevices

/// `mfactl enroll oath`: the bridge enrollment of a smart card's OATH applet, in one command.
struct EnrollCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "enroll", abstract: "Program a token and enable it, no typing of codes.", subcommands: [OATH.self, HIDHOTP.self, HIDYubicoOTP.self])

    struct OATH: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "oath",
            abstract: "Create a pending device, program its seed into the card's OATH applet, compute two consecutive codes on the card, enable.")
        @OptionGroup var backend: BackendOptions
        @OptionGroup var card: CardOptions
        @Option(help: "The user the token is enrolled for (exact bytes).") var user: String
        @Option(help: "Credential name on the card: ISSUER:ACCOUNT (default mfa-bridge:USER).") var name: String?
        @Flag(help: "Require a touch for every code (two touches during enrollment).") var touch = false
        @Flag(help: "Replace a credential of the same name already on the card (its seed is lost).") var force = false
        @Flag(help: "Print JSON.") var json = false

        struct Output: Encodable {
            let serial: String
            let user: String
            let credential: String
            let reader: String?
            /// When the card's next code starts, the first that signs in (ISO 8601, UTC).
            let firstSignInFrom: String
        }

        func run() async throws {
            try await CLIOutput.run {
                let parsed = OATHCredentialID(parsing: name ?? "mfa-bridge:\(user)", type: .totp)
                let id = OATHCredentialID(issuer: parsed.issuer, account: parsed.account, period: 30).formatted(type: .totp)
                let credential = OATHCredential(id: id, type: .totp, algorithm: .sha1)
                // Everything that can be checked before a device exists: the card answers, its password
                // is right, and the name is free (or --force says what it replaces).
                let onCard = try card.withSession { try $0.list() }
                if onCard.contains(where: { $0.id.utf8.elementsEqual(id.utf8) }) {
                    guard force else {
                        throw CLIError("the card already holds a credential \(id); --force replaces it (its seed is lost, and a device enrolled with it stops working)")
                    }
                    FileHandle.standardError.write(Data("replacing the credential \(id) on the card (--force)\n".utf8))
                }
                let service = try await backend.backend()
                let created = try await service.createGenerated(user: user, issuer: "mfa-bridge", kind: .oathCard, digits: 6)
                let secret = try OTPSecret(base32: created.secret)
                // Program the card and read two consecutive codes from it: the previous and the current
                // step, so the card's next code is the first to sign in (the current one is used here).
                let now = Int64(Date().timeIntervalSince1970)
                if touch { FileHandle.standardError.write(Data("touch the token twice when it blinks\n".utf8)) }
                var programmed = false
                do {
                    let codes: (String, String) = try card.withSession { session in
                        try session.put(id: id, type: .totp, algorithm: .sha1, digits: 6, secret: secret, requireTouch: touch)
                        programmed = true
                        let first = try session.calculate(credential, time: now - 30)
                        let second = try session.calculate(credential, time: now)
                        return (first.description, second.description)
                    }
                    try await service.enable(serial: created.serial, user: user, code1: codes.0, code2: codes.1)
                } catch {
                    // Leave nothing half-done: the pending device goes, and the credential this call wrote.
                    try? await service.delete(serial: created.serial)
                    if programmed { try? card.withSession { try $0.delete(id: id) } }
                    throw error
                }
                let firstSignIn = (now / 30 + 1) * 30
                let output = Output(serial: created.serial, user: user, credential: id, reader: card.reader, firstSignInFrom: CLIOutput.isoTime(firstSignIn))
                if json { try CLIOutput.printJSON(output); return }
                print("enrolled \(id) on the card as device \(created.serial) for \(user): active")
                print("first sign-in: the card's code from \(CLIOutput.isoTime(firstSignIn)) (in \(max(0, firstSignIn - Int64(Date().timeIntervalSince1970))) s); the code it shows now was used to enable")
            }
        }
    }
}
