import MFA
import NIOCore
import PostgresNIO

extension PostgresMFAStore {
    /// A whole group-commit batch of one segment in one statement, so in PostgreSQL's implicit
    /// transaction: the accepts' compare-and-set, the failures (and the decoy's), and the audit entries with the signed
    /// checkpoint after the head this process committed last — one round trip instead of `BEGIN`,
    /// two updates, the append and `COMMIT`.
    ///
    /// All or nothing: unless every accept took and the checkpoint still held the expected head, the
    /// statement raises `MFA01` (``batchConflictFunction``) and changes nothing; the batch then takes
    /// the transaction way, which handles both. The checkpoint's row is locked after the devices' rows
    /// (its update's condition reads both updates first), like every other write of the store.
    /// Returns one row per changed failure device (serial, state), or one row of nulls.
    struct BatchInOneStatement: PostgresPreparedStatement {
        static let name = "mfa_batch_one_statement"
        static let sql = """
            WITH accepted AS (\(AcceptBatch.sql)),
            failed AS (\(shifted(FailureBatch.devicesSQL, by: 6))),
            decoyed AS (\(shifted(FailureBatch.decoySQL, by: 6))),
            moved AS (
                UPDATE audit_checkpoint SET seq = $26, hash = $27, mac = $28
                WHERE id = 1 AND seq = $29 AND hash = $30
                    AND (SELECT count(*) FROM accepted) = $31 AND (SELECT count(*) FROM failed) >= 0
                    AND (SELECT count(*) FROM decoyed) >= 0
                RETURNING 1
            ), appended AS (
                INSERT INTO audit (seq, time, actor, action, "user", serial, result, detail, prev_hash, hash)
                \(shifted(AuditInsert.entriesSQL, by: 6 + FailureBatch.parameterCount)) WHERE EXISTS (SELECT 1 FROM moved)
            ), checked AS (
                SELECT CASE WHEN EXISTS (SELECT 1 FROM moved) THEN 1 ELSE mfa_batch_conflict() END AS ok
            )
            SELECT f.serial, f.state FROM checked LEFT JOIN failed f ON true
            """
        typealias Row = (serial: String, state: String)?
        let accepts: AcceptBatch
        let failures: FailureBatch
        let append: AuditAppendAfter

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 31)
            accepts.bind(into: &bindings)
            failures.bind(into: &bindings)
            append.bind(into: &bindings)
            bindings.append(Int64(accepts.accepts.count))
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row {
            let (serial, state) = try row.decode((String?, String?).self)
            guard let serial, let state else { return nil }
            return (serial, state)
        }

        /// `sql` with every parameter `$n` renumbered `$(n + offset)`.
        static func shifted(_ sql: String, by offset: Int) -> String {
            var out = ""
            var digits = ""
            var inParameter = false
            for character in sql + " " {
                if inParameter, character.isASCII, character.isNumber {
                    digits.append(character)
                    continue
                }
                if inParameter {
                    out += "$\(Int(digits)! + offset)"
                    inParameter = false
                    digits = ""
                }
                if character == "$" { inParameter = true } else { out.append(character) }
            }
            return String(out.dropLast())
        }
    }

    /// The function ``BatchInOneStatement`` raises its conflict with (SQLSTATE `MFA01`).
    static let batchConflictFunction = """
        CREATE OR REPLACE FUNCTION mfa_batch_conflict() RETURNS INT LANGUAGE plpgsql VOLATILE AS $body$
        BEGIN
            RAISE EXCEPTION 'a group-commit batch met a concurrent change' USING ERRCODE = 'MFA01';
        END
        $body$
        """
}
