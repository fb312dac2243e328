/// Builds nginx configuration text with consistent four-space indentation.
struct NginxWriter {
    private(set) var text = ""
    private var depth = 0

    /// One directive; the caller writes it without the trailing `;`.
    mutating func directive(_ line: String) {
        write(line + ";")
    }

    /// A `# ...` comment line per given line.
    mutating func comment(_ lines: String...) {
        for line in lines { write(line.isEmpty ? "#" : "# \(line)") }
    }

    mutating func blank() {
        if !text.isEmpty, !text.hasSuffix("{\n"), !text.hasSuffix("\n\n") { text += "\n" }
    }

    mutating func block(_ header: String, _ body: (inout NginxWriter) -> Void) {
        write("\(header) {")
        depth += 1
        body(&self)
        depth -= 1
        if text.hasSuffix("\n\n") { text.removeLast() }
        write("}")
    }

    /// Raw text already formatted by the caller (the generated-file header).
    mutating func raw(_ lines: String) {
        text += lines
    }

    private mutating func write(_ line: String) {
        text += String(repeating: "    ", count: depth) + line + "\n"
    }
}
