#if canImport(Glibc)
import Glibc
#endif

/// Files only their owner may read, created whole or not at all.
///
/// A key written with an ordinary create-then-chmod is world-readable for a moment, and two processes
/// starting at once would each write their own key (the last rename wins, and the other process seals
/// secrets under a key nobody keeps). Here the bytes go to a temporary file created `0600` with
/// `O_EXCL`, are synced, and the file is then hard-linked to its name: `link` fails if the name
/// exists, so exactly one writer wins and a reader never sees a partial file.
public enum PrivateFile {
    /// Creates `path` holding `contents`, mode 0600. False when `path` already exists (nothing is
    /// written then); throws when it cannot be written.
    public static func create(_ path: String, contents: [UInt8]) throws(MFAError) -> Bool {
        let temporary = path + ".tmp-\(getpid())-\(Int.random(in: 0..<Int.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("cannot create", temporary) }
        defer { unlink(temporary) }
        var written = 0
        while written < contents.count {
            let n = contents[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else {
                close(fd)
                throw failure("cannot write", temporary)
            }
            written += n
        }
        guard fsync(fd) == 0, close(fd) == 0 else { throw failure("cannot sync", temporary) }
        if link(temporary, path) == 0 { return true }
        if errno == EEXIST { return false }
        throw failure("cannot create", path)
    }

    private static func failure(_ what: String, _ path: String) -> MFAError {
        MFAError(.vault, "\(what) \(path): \(String(cString: strerror(errno)))")
    }
}
