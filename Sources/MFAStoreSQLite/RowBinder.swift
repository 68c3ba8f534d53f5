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

    /// Binds like ``run(_:in:_:)``, steps once and hands the first result row (of a `SELECT` or an
    /// `UPDATE … RETURNING`) to `read`; nil when there is none. The statement is reset afterwards.
    static func first<T>(_ statement: Statement, in db: Database, _ bind: (inout RowBinder) -> Void, read: (ResultRow) -> T) throws -> T? {
        var binder = RowBinder(statement.sqliteStatement)
        bind(&binder)
        defer { sqlite3_reset(binder.handle) }
        switch sqlite3_step(binder.handle) {
        case SQLITE_ROW: return read(ResultRow(handle: binder.handle))
        case SQLITE_DONE: return nil
        case let code:
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: statement.sql)
        }
    }

    /// The current result row of a stepped statement, read by column index.
    struct ResultRow {
        fileprivate let handle: OpaquePointer

        func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
        func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(handle, column)) }
        func optionalInt64(_ column: Int32) -> Int64? { sqlite3_column_type(handle, column) == SQLITE_NULL ? nil : int64(column) }

        func string(_ column: Int32) -> String {
            guard let text = sqlite3_column_text(handle, column) else { return "" }
            return String(cString: text)
        }

        func bytes(_ column: Int32) -> [UInt8] {
            let count = Int(sqlite3_column_bytes(handle, column))
            guard count > 0, let base = sqlite3_column_blob(handle, column) else { return [] }
            return [UInt8](UnsafeRawBufferPointer(start: base, count: count))
        }
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
