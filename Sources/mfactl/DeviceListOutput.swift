import ArgumentParser
import Foundation
import MFA
import MFAServer
import OTP
import QRCode

struct DeviceListOutput: Encodable {
    let devices: [DeviceView]

    func printTable(now: Int64 = Int64(Date().timeIntervalSince1970)) {
        if devices.isEmpty { print("no devices"); return }
        var table = TextTable("SERIAL", "KIND", "STATE", "USER", "FAILURES", "DRIFT", "CREATED", "NOTE")
        for d in devices {
            table.add(d.serial, d.kind, d.state, d.user ?? "-", String(d.failureCount), Self.drift(d), CLIOutput.isoTime(d.createdAt), Self.note(d, now: now))
        }
        table.print()
    }

    /// TOTP drift in seconds with its sign; counter-based and Yubico OTP devices have none.
    static func drift(_ d: DeviceView) -> String {
        guard let period = d.period else { return "-" }
        let seconds = d.driftSteps * period
        return seconds > 0 ? "+\(seconds)s" : "\(seconds)s"
    }

    /// What an admin needs to know next: a lock in force, a pending device's expiry.
    static func note(_ d: DeviceView, now: Int64) -> String {
        if d.state == DeviceState.locked.rawValue, let until = d.lockedUntil {
            return until > now
                ? "locked until \(CLIOutput.isoTime(until)) (\(d.failureCount) failures)"
                : "lock ended \(CLIOutput.isoTime(until)); the next correct code signs in"
        }
        if let expires = d.expiresAt {
            return expires > now ? "expires \(CLIOutput.isoTime(expires))" : "expired \(CLIOutput.isoTime(expires)) (it will be deleted; enabling it fails)"
        }
        return ""
    }
}
