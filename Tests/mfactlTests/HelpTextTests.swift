import Foundation
import TestSupport
import Testing

/// Issue 17: every subcommand has an abstract and every option and argument a help text, so
/// `mfactl … --help` answers what an admin asks. Walks the whole command tree through `--help`.
@Suite("Help text for every subcommand and option")
struct HelpTextTests {
    /// Prints `COMMAND :: SECTION :: ENTRY` for each entry of a help page that has no text, recursing
    /// into subcommands.
    static let scanner = #"""
import subprocess, re, sys
exe = sys.argv[1]
missing = []
def scan(path):
    out = subprocess.run([exe] + path + ["--help"], capture_output=True, text=True).stdout
    lines = out.split("\n")
    section = None
    subs = []
    for i, l in enumerate(lines):
        if re.match(r"^[A-Z][A-Z ]+:", l):
            section = l.split(":")[0]; continue
        if l.startswith("  See '"): section = None; continue
        if section in ("OPTIONS", "ARGUMENTS", "SUBCOMMANDS") and re.match(r"^  \S", l):
            m = re.match(r"^  (\S.*?)(\s{2,}(\S.*))?$", l)
            name, text = m.group(1), m.group(3)
            nxt = lines[i+1] if i+1 < len(lines) else ""
            has = bool(text) or bool(re.match(r"^\s{6,}\S", nxt)) or bool(re.match(r"^\S+( <[^>]+>)? \S", name))
            if not has: missing.append(" ".join(path) + " :: " + section + " :: " + name)
            if section == "SUBCOMMANDS":
                subs.append(name.split()[0].replace("(default)", ""))
    for s in subs:
        if s not in ("help",): scan(path + [s])
scan([])
print("\n".join(missing))
"""#

    @Test("no subcommand, option or argument without help, in the whole tree")
    func everything() async throws {
        let r = try await TestTools.run("python3", ["-c", Self.scanner, TestTools.product("mfactl")], timeout: 120)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "without help:\n\(r.stdout)")
        // The scan finds what it looks for: a page it reads has entries.
        let mfa = try await TestTools.run(TestTools.product("mfactl"), ["mfa", "deactivate", "--help"])
        #expect(mfa.stdout.contains("--serial <serial>") && mfa.stdout.contains("The device serial."))
    }
}
