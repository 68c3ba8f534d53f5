import GRDB
import GRDBSQLite

/// Binds one row's values straight through SQLite's C API and steps the statement once: for the
/// bulk paths (a 100 000-key import, its audit entries), where boxing every value into GRDB's
/// `StatementArguments` costs more than SQLite's own insert.
///
/// Works on a statement from `cachedStatement(sql:)`: GRDB resets and rebinds a statement whenever
/// it runs it with arguments, and this leaves the statement reset after every row.
struct RowBinder {
    private let handle: OpaquePointer
    private var index: Int32 = 1

    /// SQLite copies every text and blob before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    private init(_ handle: OpaquePointer) { self.handle = handle }

    /// Binds the row with `bind` (values in parameter order), runs the statement and returns the
    /// number of rows it changed.
    static func run(_ statement: Statement, in db: Database, _ bind: (inout RowBinder) -> Void) throws -> Int {
        var binder = RowBinder(statement.sqliteStatement)
        bind(&binder)
        let code = sqlite3_step(binder.handle)
        guard code == SQLITE_DONE else {
            let message = String(cString: sqlite3_errmsg(db.sqliteConnection))
            sqlite3_reset(binder.handle)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
        }
        sqlite3_reset(binder.handle)
        return Int(sqlite3_changes(db.sqliteConnection))
    }

    mutating func add(_ value: Int64) {
        sqlite3_bind_int64(handle, index, value)
        index += 1
    }

    mutating func add(_ value: Int) { add(Int64(value)) }

    mutating func add(_ value: Int64?) {
        if let value { add(value) } else { addNull() }
    }

    mutating func add(_ value: String?) {
        guard var value else { return addNull() }
        value.withUTF8 { text in
            // A nil base address would bind NULL, not the empty string.
            if let base = text.baseAddress {
                _ = base.withMemoryRebound(to: CChar.self, capacity: text.count) { sqlite3_bind_text(handle, index, $0, Int32(text.count), Self.transient) }
            } else {
                sqlite3_bind_text(handle, index, "", 0, Self.transient)
            }
        }
        index += 1
    }

    mutating func add(_ value: [UInt8]?) {
        guard let value else { return addNull() }
        value.withUnsafeBytes { bytes in
            if let base = bytes.baseAddress {
                sqlite3_bind_blob(handle, index, base, Int32(bytes.count), Self.transient)
            } else {
                sqlite3_bind_zeroblob(handle, index, 0)
            }
        }
        index += 1
    }

    private mutating func addNull() {
        sqlite3_bind_null(handle, index)
        index += 1
    }
}
