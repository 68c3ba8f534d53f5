import Logging
import MFA

/// Removes expired Idempotency-Key entries in the background, so that claims (on the sign-in path)
/// touch one row and the table holds about one TTL's worth of keys, however busy the server is.
/// Several server processes may sweep the same store: a purge is an ordinary bounded `DELETE`.
public enum IdempotencySweeper {
    /// Purges every `interval` until the task is cancelled; a failed purge is logged and retried at
    /// the next interval.
    public static func run(service: MFAService, every interval: Duration = .seconds(60), logger: Logger = Logger(label: "mfa-bridge.idempotency")) async {
        while !Task.isCancelled {
            do {
                let removed = try await service.purgeExpiredIdempotency()
                if removed > 0 { logger.debug("removed expired idempotency keys", metadata: ["count": "\(removed)"]) }
            } catch {
                logger.warning("idempotency purge failed; retrying later", metadata: ["error": "\(error.code.rawValue)"])
            }
            do { try await Task.sleep(for: interval) } catch { return }
        }
    }
}
