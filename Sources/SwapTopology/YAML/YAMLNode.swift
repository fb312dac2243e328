/// A YAML document as a tree that remembers where every node was written.
///
/// Topology files are decoded from this tree, never through untyped
/// dictionaries, so that every diagnostic can name a line and column, and an
/// overlay keeps the positions of the file each value came from.
public struct YAMLNode: Sendable {
    public enum Content: Sendable {
        /// `plain` is false for quoted scalars: `"null"` is a string, `null` is not.
        case scalar(String, plain: Bool)
        case mapping([YAMLEntry])
        case sequence([YAMLNode])
    }

    public var content: Content
    public var location: SourceLocation

    public init(_ content: Content, at location: SourceLocation) {
        self.content = content
        self.location = location
    }

    /// YAML's null: an empty plain scalar, `~` or `null`.
    public var isNull: Bool {
        if case let .scalar(text, plain: true) = content {
            return ["", "~", "null", "Null", "NULL"].contains(text)
        }
        return false
    }

    public var entries: [YAMLEntry]? {
        if case let .mapping(entries) = content { return entries }
        return nil
    }

    public var items: [YAMLNode]? {
        if case let .sequence(items) = content { return items }
        return nil
    }

    public var scalar: String? {
        if case let .scalar(text, _) = content { return text }
        return nil
    }

    /// The value under `key` in a mapping.
    public subscript(key: String) -> YAMLNode? {
        entries?.first { $0.key == key }?.value
    }

    /// What a diagnostic calls this kind of node.
    public var kindName: String {
        switch content {
        case .scalar: return isNull ? "null" : "a scalar"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        }
    }
}

/// One `key: value` pair of a mapping, in file order.
public struct YAMLEntry: Sendable {
    public var key: String
    public var keyLocation: SourceLocation
    public var value: YAMLNode

    public init(key: String, keyLocation: SourceLocation, value: YAMLNode) {
        self.key = key
        self.keyLocation = keyLocation
        self.value = value
    }
}
