import Logging
import ServiceTesting

/// The logger of the components under test: warnings and worse only.
let quietLogger = Logger.quiet("servicekit-test")
