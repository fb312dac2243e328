@preconcurrency import Glibc

/// Console plumbing for the commands.
public enum StandardOutput {
    /// Line-buffers stdout, so printed lines and the progress board (written
    /// straight to the descriptor) stay in order in a file or a pipe too.
    public static func useLineBuffering() {
        setvbuf(stdout, nil, _IOLBF, 0)
    }
}
