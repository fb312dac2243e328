import Foundation

/// ISO timestamps as PostgreSQL prints and reads them in a UTC session:
/// `2024-05-01 12:30:00.123456+00`, `2024-05-01`, `44-03-15 ... BC`,
/// `infinity`. Done by hand with civil-date arithmetic: no formatter, no
/// locale, no calendar state.
enum PostgresTimestamp {
    static func format(_ date: Date) -> String {
        if date == .distantFuture { return "infinity" }
        if date == .distantPast { return "-infinity" }
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        let (days, dayMicros) = micros.floorDividedBy(86_400_000_000)
        let (year, month, day) = civil(fromDays: days)
        let seconds = dayMicros / 1_000_000
        let fraction = dayMicros % 1_000_000
        let bc = year <= 0
        var text = pad(bc ? 1 - year : year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2)
        text += " " + pad(seconds / 3600, 2) + ":" + pad(seconds / 60 % 60, 2) + ":" + pad(seconds % 60, 2)
        text += "." + pad(fraction, 6) + "+00"
        return bc ? text + " BC" : text
    }

    static func parse(_ input: String) -> Date? {
        switch input {
        case "infinity": return .distantFuture
        case "-infinity": return .distantPast
        default: break
        }
        var text = Substring(input)
        var bc = false
        if text.hasSuffix(" BC") {
            bc = true
            text = text.dropLast(3)
        }
        let parts = text.split(maxSplits: 1, whereSeparator: { $0 == " " || $0 == "T" })
        guard let datePart = parts.first else { return nil }
        let ymd = datePart.split(separator: "-", omittingEmptySubsequences: false)
        guard ymd.count == 3, var year = Int64(ymd[0]), let month = Int64(ymd[1]), let day = Int64(ymd[2]),
              (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        if bc { year = 1 - year }
        var seconds = Double(days(fromYear: year, month: month, day: day)) * 86_400
        if parts.count == 2 {
            guard let timeOfDay = parseTime(parts[1]) else { return nil }
            seconds += timeOfDay
        }
        return Date(timeIntervalSince1970: seconds)
    }

    /// `HH:MM:SS[.ffffff][(+|-)HH[:MM[:SS]] | Z]` to seconds after midnight UTC.
    private static func parseTime(_ text: Substring) -> Double? {
        var clock = text
        var offset: Double = 0
        if clock.hasSuffix("Z") {
            clock = clock.dropLast()
        } else if let signIndex = clock.lastIndex(where: { $0 == "+" || $0 == "-" }) {
            let sign: Double = clock[signIndex] == "-" ? -1 : 1
            let fields = clock[clock.index(after: signIndex)...].split(separator: ":")
            guard (1...3).contains(fields.count) else { return nil }
            var total: Double = 0
            for (index, field) in fields.enumerated() {
                guard let value = Int(field) else { return nil }
                total += Double(value) * [3600, 60, 1][index]
            }
            offset = sign * total
            clock = clock[..<signIndex]
        }
        let hms = clock.split(separator: ":", omittingEmptySubsequences: false)
        guard hms.count == 3, let hours = Int(hms[0]), let minutes = Int(hms[1]), let seconds = Double(hms[2]),
              (0...24).contains(hours), (0...59).contains(minutes), seconds >= 0, seconds < 61
        else { return nil }
        return Double(hours * 3600 + minutes * 60) + seconds - offset
    }

    /// Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant).
    private static func days(fromYear year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}

extension Int64 {
    /// Division rounding toward negative infinity, with a non-negative remainder.
    fileprivate func floorDividedBy(_ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        var quotient = self / divisor
        var remainder = self % divisor
        if remainder < 0 {
            quotient -= 1
            remainder += divisor
        }
        return (quotient, remainder)
    }
}
