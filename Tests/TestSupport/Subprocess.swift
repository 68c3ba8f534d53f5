import Foundation

/// The outcome of running an external program in a test.
public struct ProcessResult: Sendable {
    public let status: Int32
    /// True when the process died of a signal (a crash, or the test's timeout), not by exiting.
    public let signaled: Bool
    public let stdout: String
    public let stderr: String

    public init(status: Int32, signaled: Bool, stdout: String, stderr: String) {
        self.status = status
        self.signaled = signaled
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// Helpers for tests that cross-check against programs nobody here wrote (oathtool, pyotp, ykman, …).
public enum TestTools {
    /// swift-corelibs-foundation's `Process.run()` is not safe to call from several threads at once (a
    /// CI run crashed in its memcpy while 20 curl processes were launched concurrently): launches take
    /// turns; the children still run concurrently.
    nonisolated(unsafe) static let launchLock = NSLock()

    /// Starts `process` under ``launchLock``.
    public static func launch(_ process: Process) throws {
        launchLock.lock()
        defer { launchLock.unlock() }
        try process.run()
    }

    /// Absolute path of `name` on PATH, or nil.
    public static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `executable` (a path, or a name looked up on PATH) with `arguments`, feeding `input` on stdin.
    public static func run(
        _ executable: String, _ arguments: [String], input: String? = nil, environment: [String: String] = [:],
        timeout: TimeInterval = 120
    ) throws -> ProcessResult {
        // A child that exits before reading all its input must not kill the test process with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        let process = Process()
        let resolved = executable.contains("/") ? executable : (which(executable) ?? executable)
        process.executableURL = URL(fileURLWithPath: resolved)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        let inPipe = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = inPipe
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        try launch(process)
        // Every child is bounded in time: a hung reference tool or device fails the test, not CI.
        // Weakly: a cancelled work item stays queued until its deadline, and a strong capture kept the
        // Process and its pipes (file descriptors) alive that long; hundreds of runs inside one timeout
        // piled up open pipes until swift-corelibs-foundation's Process.run crashed copying the fd list.
        let watchdog = DispatchWorkItem { [weak process] in
            if let process, process.isRunning { process.terminate() }
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        defer { watchdog.cancel() }
        // Read both pipes concurrently with writing stdin, so large outputs cannot dead-lock.
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data()
        nonisolated(unsafe) var errData = Data()
        group.enter()
        DispatchQueue.global().async {
            outData = out.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        // A child may exit without reading its input (EPIPE): that is its answer, not a test failure.
        if let input { try? inPipe.fileHandleForWriting.write(contentsOf: Data(input.utf8)) }
        try? inPipe.fileHandleForWriting.close()
        process.waitUntilExit()
        group.wait()
        try? out.fileHandleForReading.close()
        try? err.fileHandleForReading.close()
        return ProcessResult(
            status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }

    /// The directory holding the build products (mfactl, token-emulator, …) of the running test bundle.
    public static var productsDirectory: URL {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        // swift test may run <pkg>PackageTests.xctest (a file on Linux) or a runner inside a bundle.
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("mfactl").path),
            directory.path != "/"
        {
            directory = directory.deletingLastPathComponent()
        }
        return directory
    }

    /// The package's root directory (where `Package.swift`, the README and `Docs/` are).
    public static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Path of a product built alongside the tests.
    public static func product(_ name: String) -> String {
        productsDirectory.appendingPathComponent(name).path
    }
}

/// A small, seedable generator (SplitMix64) so a failing random test can be replayed from its seed.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A seed from `OTP_TEST_SEED` if set (to replay a failure), else a fresh one.
    public static func seedFromEnvironment() -> UInt64 {
        if let text = ProcessInfo.processInfo.environment["OTP_TEST_SEED"], let seed = UInt64(text) { return seed }
        return UInt64.random(in: 1...UInt64.max)
    }
}
