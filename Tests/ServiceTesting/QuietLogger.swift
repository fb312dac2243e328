import Logging

extension Logger {
    /// A logger that prints only `level` and worse, so a passing run stays
    /// readable while a failing one still shows the service's warnings.
    public static func quiet(_ label: String, level: Logger.Level = .warning) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}
