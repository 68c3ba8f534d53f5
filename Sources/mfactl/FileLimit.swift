#if canImport(Glibc)
import Glibc
#endif

/// The process's open-file limit, raised for `--max-connections`: each connection is a descriptor,
/// and a server that runs out of them cannot even answer `/healthz`.
enum FileLimit {
    /// Descriptors kept for the store, logs and listeners besides the connections.
    static let reserve = 256

    /// Raises the soft limit towards the hard one so `connections` fit, and returns how many do:
    /// `connections`, or (unless `exactly`, when it is an error) fewer when even the hard limit is
    /// too low.
    static func ensure(connections: Int, exactly: Bool) throws -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return connections }
        var needed = rlim_t(connections + reserve)
        guard limit.rlim_cur < needed else { return connections }
        if limit.rlim_max < needed, !exactly, limit.rlim_max > rlim_t(2 * reserve) { needed = limit.rlim_max }
        guard limit.rlim_max >= needed else {
            throw CLIError("--max-connections \(connections) needs \(needed) open files, but this process may open at most \(limit.rlim_max) (raise it with ulimit -n, LimitNOFILE= in systemd, or lower --max-connections)")
        }
        limit.rlim_cur = needed
        guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else {
            throw CLIError("cannot raise the open-file limit to \(needed) for --max-connections \(connections)")
        }
        return Int(needed) - reserve
    }
}
