/// Every action the workflows use, pinned to the full commit SHA of a release
/// (the only immutable reference); the tag rides along as a comment so that
/// Dependabot's `github-actions` ecosystem can bump both.
enum PinnedAction: CaseIterable {
    case checkout
    case cacheRestore
    case cacheSave
    case setupBuildx
    case login
    case metadata
    case buildPush

    var repository: String {
        switch self {
        case .checkout: "actions/checkout"
        case .cacheRestore: "actions/cache/restore"
        case .cacheSave: "actions/cache/save"
        case .setupBuildx: "docker/setup-buildx-action"
        case .login: "docker/login-action"
        case .metadata: "docker/metadata-action"
        case .buildPush: "docker/build-push-action"
        }
    }

    /// The peeled commit of the release tag.
    var sha: String {
        switch self {
        case .checkout: "3d3c42e5aac5ba805825da76410c181273ba90b1"
        case .cacheRestore, .cacheSave: "27d5ce7f107fe9357f9df03efb73ab90386fccae"
        case .setupBuildx: "37fe631027851001ddb9b187196cc803df7f5f0e"
        case .login: "4907a6ddec9925e35a0a9e82d7399ccc52663121"
        case .metadata: "dc802804100637a589fabce1cb79ff13a1411302"
        case .buildPush: "53b7df96c91f9c12dcc8a07bcb9ccacbed38856a"
        }
    }

    var tag: String {
        switch self {
        case .checkout: "v7.0.1"
        case .cacheRestore, .cacheSave: "v5.0.5"
        case .setupBuildx: "v4.3.0"
        case .login: "v4.1.0"
        case .metadata: "v6.2.0"
        case .buildPush: "v7.3.0"
        }
    }

    /// The `uses:` value; `WorkflowText.pinComments` appends the tag comment.
    var uses: String { "\(repository)@\(sha)" }
}
