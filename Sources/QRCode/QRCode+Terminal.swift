extension QRCode {
    /// The symbol as text for a terminal: each character is one module wide and two modules tall, drawn with
    /// the half blocks `▀` (upper), `▄` (lower), `█` (both) and space (neither).
    ///
    /// A scanner needs dark modules darker than light ones and a light quiet zone around the symbol. A
    /// character cell shows the terminal's foreground colour where there is ink and its background elsewhere,
    /// so which modules get ink depends on the terminal:
    ///
    /// - `inverted: false` (the default) is for **dark-background terminals** (light text on a dark
    ///   background, the default of most terminal emulators): light modules and the quiet zone are drawn with
    ///   ink, dark modules are left as background.
    /// - `inverted: true` is for **light-background terminals** (dark text on a light background, like
    ///   paper): dark modules are drawn with ink, light modules and the quiet zone are left as background.
    ///
    /// With the wrong setting the code shows light-on-dark; some phone scanners still read that, many do not.
    ///
    /// The result has `(size + 2 * quietZone + 1) / 2` lines separated by `"\n"` (no trailing newline), all
    /// `size + 2 * quietZone` characters long. When the height in modules is odd, the lower half of the last
    /// line is one more light row. Use a font whose block characters fill the cell (most monospaced fonts),
    /// and a quiet zone of at least 2 (the standard asks for 4; on screen, 2 scans well).
    ///
    /// - Important: the output encodes the secret of an enrollment URI: print it to the person enrolling
    ///   only, never to a log.
    /// - Parameters:
    ///   - quietZone: light modules around the symbol on each side; must not be negative.
    ///   - inverted: false for dark-background terminals, true for light-background terminals.
    public func terminalString(quietZone: Int = 2, inverted: Bool = false) -> String {
        precondition(quietZone >= 0, "the quiet zone must not be negative")
        precondition(quietZone <= 1024, "the quiet zone is unreasonably large")
        let side = size + 2 * quietZone
        // A module gets ink when it is light (dark terminals) or dark (light terminals).
        func ink(_ x: Int, _ y: Int) -> Bool {
            isDark(x: x - quietZone, y: y - quietZone) == inverted
        }
        var lines: [String] = []
        lines.reserveCapacity((side + 1) / 2)
        var y = 0
        while y < side {
            var line = ""
            line.reserveCapacity(side * 3)
            for x in 0..<side {
                let top = ink(x, y)
                // Past the last row there is only quiet zone: light.
                let bottom = y + 1 < side ? ink(x, y + 1) : !inverted
                switch (top, bottom) {
                case (true, true): line.append("█")
                case (true, false): line.append("▀")
                case (false, true): line.append("▄")
                case (false, false): line.append(" ")
                }
            }
            lines.append(line)
            y += 2
        }
        return lines.joined(separator: "\n")
    }
}
