import Logging
import MFA

/// The server's background clean-ups, each a bounded store call repeated until the task is
/// cancelled; a failed round is logged (its error code only) and tried again at the next interval.
/// Several server processes may sweep the same store: every round is ordinary conditional deletes.
public enum Sweepers {
    /// Expired Idempotency-Key entries, so that claims (on the sign-in path) touch one row and the
    /// table holds about one TTL's worth of keys, however busy the server is.
    public static func idempotency(service: MFAService, every interval: Duration = .seconds(60)) async {
        await repeatEvery(interval, what: "idempotency purge", logger: Logger(label: "mfa-bridge.idempotency")) { (logger) throws(MFAError) in
            let removed = try await service.purgeExpiredIdempotency()
            if removed > 0 { logger.debug("removed expired idempotency keys", metadata: ["count": "\(removed)"]) }
        }
    }

    /// Pending devices not enabled within the policy's lifetime: deleted, each audited, each logged.
    public static func pendingDevices(service: MFAService, every interval: Duration) async {
        await repeatEvery(interval, what: "pending-device expiry", logger: Logger(label: "mfa-bridge.enrollment")) { (logger) throws(MFAError) in
            for device in try await service.expirePending(actor: "serve") {
                logger.info(
                    "pending device expired and deleted",
                    metadata: ["serial": "\(device.serial)", "user": "\(device.owner ?? "")", "created": "\(SecondsText.iso(device.createdAt))"])
            }
        }
    }

    /// How often pending devices are swept for `lifetime`: often enough that one lapses at most a
    /// tenth of its lifetime (and at most a minute) late.
    public static func pendingInterval(lifetime seconds: Int64) -> Duration {
        .milliseconds(min(max(seconds * 100, 1_000), 60_000))
    }

    static func repeatEvery(_ interval: Duration, what: String, logger: Logger, _ round: (Logger) async throws(MFAError) -> Void) async {
        while !Task.isCancelled {
            do {
                try await round(logger)
            } catch {
                logger.warning("\(what) failed; retrying later", metadata: ["error": "\(error.code.rawValue)"])
            }
            do { try await Task.sleep(for: interval) } catch { return }
        }
    }
}
