import GRDB

/// Statements compiled once per connection and reused: preparing SQL is the most expensive part of
/// a small write (parsing plus GRDB's authorizer), so the hot paths never prepare twice.
extension Database {
    /// Executes one statement (from the connection's statement cache).
    func run(sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }

    /// All rows of one query (from the connection's statement cache).
    func rows(sql: String, arguments: StatementArguments = StatementArguments()) throws -> [Row] {
        try Row.fetchAll(cachedStatement(sql: sql), arguments: arguments)
    }

    /// The first row of one query (from the connection's statement cache).
    func row(sql: String, arguments: StatementArguments = StatementArguments()) throws -> Row? {
        try Row.fetchOne(cachedStatement(sql: sql), arguments: arguments)
    }
}
