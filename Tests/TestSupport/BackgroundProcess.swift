import Foundation

/// A long-running child process (a virtual token, a server) that a test starts, waits for, and stops.
public final class BackgroundProcess: @unchecked Sendable {
    public let process = Process()
    private let lock = NSLock()
    private var output = ""
    private var errors = ""

    /// Starts `executable` with `arguments`; stdout and stderr are collected.
    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        out.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.withLock { self.output += String(decoding: data, as: UTF8.self) }
        }
        err.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.withLock { self.errors += String(decoding: data, as: UTF8.self) }
        }
        try TestTools.launch(process)
    }

    /// Everything the process wrote to stdout so far.
    public var stdout: String { lock.withLock { output } }
    /// Everything the process wrote to stderr so far.
    public var stderr: String { lock.withLock { errors } }

    /// Waits until stdout contains `marker`; false after `timeout` seconds or if the process exited.
    /// It polls with `Task.sleep`, holding no thread of the cooperative pool (`OffThePool`).
    public func waitForOutput(_ marker: String, timeout: TimeInterval = 15) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if stdout.contains(marker) { return true }
            if !process.isRunning { return stdout.contains(marker) }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    /// Sends SIGTERM and waits (then SIGKILL after `grace` seconds). Returns the exit status.
    @discardableResult
    public func stop(grace: TimeInterval = 5) -> Int32 {
        if process.isRunning { process.terminate() }
        let deadline = Date().addingTimeInterval(grace)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
    }
}
