import ArgumentParser
import Foundation
import TokenDevices
import VirtualTokens

/// `token-emulator`: virtual tokens for tests against real PC/SC clients (pcscd, ykman, the bridge).
struct TokenEmulator: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token-emulator",
        abstract: "Virtual hardware tokens for tests.",
        discussion: """
            Exit status: 0 after SIGTERM/SIGINT or --remove-after, 2 on bad arguments or another error.
            """,
        subcommands: [OATHCard.self]
    )
}

/// `token-emulator oath`: a YubiKey-like YKOATH card in pcscd's vpcd reader.
struct OATHCard: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oath",
        abstract: "Insert a virtual YKOATH (YubiKey OATH) card into pcscd's vpcd reader.",
        discussion: """
            vpcd listens on 35963 for reader "Virtual PCD 00 00" and 35964 for "Virtual PCD 00 01"; the card \
            connects to it (retrying while pcscd is not up, reconnecting when pcscd restarts) and prints \
            "token-emulator: OATH card inserted into vpcd at HOST:PORT" once connected.

            The --state file holds every key of the card in clear (hex in JSON, mode 0600): use it for \
            test secrets only. It is rewritten after every change, so a killed emulator loses nothing.
            """
    )

    @Option(name: .customLong("vpcd"), help: ArgumentHelp("Where vpcd listens.", valueName: "HOST:PORT"))
    var vpcd = "127.0.0.1:35963"

    @Option(help: ArgumentHelp("Load the card from FILE (created if missing) and save it there after every change. Default: memory only.", valueName: "FILE"))
    var state: String?

    @Option(help: ArgumentHelp("Touch-required credentials: approve (compute at once) or timeout (answer 6982).", valueName: "approve|timeout"))
    var touch = "approve"

    @Option(help: ArgumentHelp("Misbehave on purpose: \(HostileBehaviour.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "MODE"))
    var hostile: String?

    @Option(name: .customLong("remove-after"), help: ArgumentHelp("Pull the card out after N APDUs and exit.", valueName: "N"))
    var removeAfter: Int?

    @Option(name: .customLong("credential-limit"), help: ArgumentHelp("Credentials the card has room for (PUT beyond answers 6A84).", valueName: "N"))
    var credentialLimit = 32

    @Option(name: .customLong("firmware-version"), help: ArgumentHelp("Version reported by SELECT (default: the state's, 5.4.3 for a new card).", valueName: "X.Y.Z"))
    var firmwareVersion: String?

    @Option(name: .customLong("connect-timeout"), help: ArgumentHelp("Give up if vpcd is not reachable within SECONDS (default: keep trying).", valueName: "SECONDS"))
    var connectTimeout: Double?

    func run() throws {
        let address: (host: String, port: UInt16)
        do {
            address = try VPCDConnection.parseAddress(vpcd)
        } catch {
            fail("bad --vpcd: \(error.message)")
        }
        guard let touchPolicy = YKOATHApplet.TouchPolicy(rawValue: touch) else {
            fail("bad --touch '\(touch)': expected approve or timeout")
        }
        var hostileBehaviour: HostileBehaviour? = nil
        if let hostile {
            guard let mode = HostileBehaviour(rawValue: hostile) else {
                fail("bad --hostile '\(hostile)': expected one of \(HostileBehaviour.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            hostileBehaviour = mode
        }
        if let removeAfter, removeAfter < 0 { fail("bad --remove-after \(removeAfter): expected N >= 0") }
        guard credentialLimit >= 0 else { fail("bad --credential-limit \(credentialLimit): expected N >= 0") }
        if let connectTimeout, !(connectTimeout > 0) { fail("bad --connect-timeout: expected a positive number of seconds") }
        var version: [UInt8]? = nil
        if let firmwareVersion {
            guard let parsed = YKOATHCardState.parseVersion(firmwareVersion) else {
                fail("bad --firmware-version '\(firmwareVersion)': expected X.Y.Z with each part in 0...255")
            }
            version = parsed
        }

        let initial: YKOATHCardState
        var onStateChange: (@Sendable (YKOATHCardState) -> Void)? = nil
        if let path = state {
            do {
                if FileManager.default.fileExists(atPath: path) {
                    initial = try YKOATHCardState.load(from: path)
                } else {
                    initial = YKOATHCardState(version: version ?? YKOATHCardState.defaultVersion)
                    try initial.save(to: path)
                }
            } catch {
                fail(error.message)
            }
            onStateChange = { newState in
                do {
                    try newState.save(to: path)
                } catch {
                    printError("warning: could not save the card state: \(error)")
                }
            }
        } else {
            initial = YKOATHCardState(version: version ?? YKOATHCardState.defaultVersion)
        }

        let applet = YKOATHApplet(
            state: initial,
            options: YKOATHApplet.Options(
                touchPolicy: touchPolicy, hostile: hostileBehaviour, credentialLimit: credentialLimit,
                versionOverride: version),
            onStateChange: onStateChange)
        let outcome = Outcome()
        let display = address.host.contains(":") ? "[\(address.host)]:\(address.port)" : "\(address.host):\(address.port)"
        let connection = VPCDConnection(
            card: applet,
            options: VPCDConnection.Options(
                host: address.host, port: address.port, removeAfter: removeAfter, connectTimeout: connectTimeout)
        ) { event in
            switch event {
            case .connected:
                if outcome.firstConnection() {
                    FileHandle.standardOutput.write(Data("token-emulator: OATH card inserted into vpcd at \(display)\n".utf8))
                } else {
                    printError("reconnected to vpcd at \(display)")
                }
            case .silent:
                printError("warning: vpcd at \(display) has not polled the card; is another card using this slot?")
            case .disconnected:
                printError("vpcd at \(display) closed the connection; reconnecting")
            case .removed(let count):
                printError("card removed from vpcd after \(count) APDUs")
            case .failed(let error):
                outcome.fail()
                printError("error: \(error.message)")
            case .finished:
                break
            }
        }

        // SIGTERM/SIGINT: take the card out and exit 0 (the state is already saved).
        var sources: [any DispatchSourceSignal] = []
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { connection.stop() }
            source.resume()
            sources.append(source)
        }
        connection.start()
        connection.waitUntilFinished()
        sources.forEach { $0.cancel() }
        if outcome.failed { throw ExitCode(2) }
    }

    private func fail(_ message: String) -> Never {
        printError("error: " + message)
        Foundation.exit(2)
    }
}

/// What the connection thread reports to the main thread.
private final class Outcome: @unchecked Sendable {
    private let lock = NSLock()
    private var connections = 0
    private var hasFailed = false

    /// True the first time only.
    func firstConnection() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        connections += 1
        return connections == 1
    }

    func fail() {
        lock.lock()
        hasFailed = true
        lock.unlock()
    }

    var failed: Bool {
        lock.lock()
        defer { lock.unlock() }
        return hasFailed
    }
}

private func printError(_ message: String) {
    FileHandle.standardError.write(Data("token-emulator: \(message)\n".utf8))
}

// Argument errors exit with 2 like every other error (ArgumentParser's default would be 64).
do {
    var command = try TokenEmulator.parseAsRoot()
    try command.run()
} catch {
    if TokenEmulator.exitCode(for: error) == .validationFailure {
        printError(TokenEmulator.fullMessage(for: error))
        exit(2)
    }
    TokenEmulator.exit(withError: error)
}
