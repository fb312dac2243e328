/// A cheap pre-scan for nesting depth, run before the recursive composer.
///
/// Counts open flow collections (`[`, `{`) outside quotes and comments, and
/// block sequences opened on one line (`- - - x`). Indentation-based nesting
/// is bounded by the same limit later, when the tree is converted.
enum NestingScanner {
    static func firstTooDeep(_ text: String, limit: Int) -> (line: Int, column: Int)? {
        var depth = 0
        var line = 1
        var column = 0
        var quote: Character?
        var inComment = false
        var dashesOnLine = 0
        var onlyDashesSoFar = true
        // A quote opens a quoted scalar only where a value can start.
        var previous: Character = "\n"
        // `#` opens a comment only after white space or at the start of a line.
        var immediatelyBefore: Character = "\n"
        for character in text {
            column += 1
            defer {
                immediatelyBefore = character
                if character != " " && character != "\t" { previous = character }
            }
            if character == "\n" {
                line += 1
                column = 0
                inComment = false
                dashesOnLine = 0
                onlyDashesSoFar = true
                continue
            }
            if inComment { continue }
            if let open = quote {
                if character == open { quote = nil }
                continue
            }
            switch character {
            case "#" where " \t\n".contains(immediatelyBefore):
                inComment = true
            case "\"" where "\n:[{,-?".contains(previous), "'" where "\n:[{,-?".contains(previous):
                quote = character
                onlyDashesSoFar = false
            case "[", "{":
                depth += 1
                onlyDashesSoFar = false
                if depth > limit { return (line, column) }
            case "]", "}":
                depth = max(0, depth - 1)
                onlyDashesSoFar = false
            case "-" where onlyDashesSoFar:
                dashesOnLine += 1
                if dashesOnLine > limit { return (line, column) }
            case " ", "\t":
                break
            default:
                onlyDashesSoFar = false
            }
        }
        return nil
    }
}
