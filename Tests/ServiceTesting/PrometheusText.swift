import Foundation

/// The value of the sample of `name` carrying every label in `labels`, from
/// Prometheus text (a `/metrics` body or `ServiceMetrics.exposition()`).
public func metricValue(_ exposition: String, _ name: String, _ labels: [String: String]) -> Double? {
    for line in exposition.split(separator: "\n") where line.hasPrefix(name + "{") {
        guard let close = line.lastIndex(of: "}") else { continue }
        let labelText = line[line.index(line.startIndex, offsetBy: name.count + 1)..<close]
        if labels.allSatisfy({ labelText.contains("\($0.key)=\"\($0.value)\"") }) {
            return Double(line[line.index(after: close)...].trimmingCharacters(in: .whitespaces))
        }
    }
    return nil
}
