#ifndef MFA_SQLITE_SETUP_H
#define MFA_SQLITE_SETUP_H

/// Process-wide SQLite settings for a program whose connections are each used by one thread at a
/// time (GRDB serializes every connection on its own queue):
/// - multi-thread mode: no mutex around every call on a connection;
/// - no memory statistics: no global mutex around every allocation (Debian's SQLite is built
///   without the lookaside allocator, so small allocations are frequent).
/// Takes effect only before SQLite initializes (before the first connection opens); returns 1 when
/// both settings took, 0 when SQLite was already initialized and keeps its defaults.
int mfa_sqlite_process_setup(void);

#endif
