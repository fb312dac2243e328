/// A test's own failure: set-up that did not work, an answer it cannot use.
public struct TestFailure: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
