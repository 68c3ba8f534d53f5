// MARK: Refused admin actions are audited too

extension MFAService {
    /// Runs an admin action; when it is refused with a typed error, appends an audit entry
    /// (`result: refused`, the error's code and message as detail) before rethrowing, so the log shows
    /// what was tried and by whom, not only what succeeded. Not for sign-ins (they audit every
    /// verdict themselves), nor when the store itself failed (the entry could not be written either),
    /// nor for rate limits (audited where they are decided). The user and serial are recorded only
    /// when they pass the naming rules; error messages never hold secrets or codes.
    func refusalAudited<T>(
        _ action: String, user: String? = nil, serial: String? = nil, actor: String, _ body: () async throws(MFAError) -> T
    ) async throws(MFAError) -> T {
        do throws(MFAError) {
            return try await body()
        } catch {
            guard error.code != .storeUnavailable, error.code != .rateLimited else { throw error }
            let draft = AuditDraft(
                time: clock(), actor: actor, action: action, user: user.flatMap { try? Validation.userName($0) },
                serial: serial.flatMap { try? Validation.serial($0) }, result: "refused", detail: Self.refusalDetail(error))
            // The refusal is what the caller must hear, whether or not its entry could be written.
            try? await store.appendAudit(draft)
            throw error
        }
    }

    /// `code: message`, at most 512 bytes (cut at a character boundary).
    static func refusalDetail(_ error: MFAError) -> String {
        var detail = "\(error.code.rawValue): \(error.message)"
        while detail.utf8.count > 512 { detail.removeLast() }
        return detail
    }
}
