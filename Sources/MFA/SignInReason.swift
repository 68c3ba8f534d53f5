// MARK: Why a sign-in found no device to check (the audit's words; the caller's answer stays uniform)

/// The audit detail of a sign-in that found no usable device: an admin reading the log must tell an
/// unknown user from a locked, deactivated or pending device, while the caller is told nothing.
enum SignInReason {
    /// `unknown-user` when `devices` (all of the user's devices) is empty; otherwise
    /// `no-usable-device:` and each state with its count (`1 locked until 2026-…Z, 1 pending`).
    static func noUsableDevice(_ devices: [DeviceRecord], now: Int64) -> String {
        guard !devices.isEmpty else { return "unknown-user" }
        var parts: [String] = []
        let locked = devices.filter { $0.state == .locked }
        if !locked.isEmpty {
            let until = locked.compactMap(\.lockedUntil).max()
            parts.append("\(locked.count) locked" + (until.map { " until \(SecondsText.iso($0))" } ?? " until unlocked"))
        }
        for state in [DeviceState.deactivated, .pending, .unassigned] {
            let count = devices.count { $0.state == state }
            if count > 0 { parts.append("\(count) \(state.rawValue)") }
        }
        return "no-usable-device: " + parts.joined(separator: ", ")
    }
}
