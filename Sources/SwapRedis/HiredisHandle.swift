import CHiredis
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The sole owner of one `redisContext`, and the only place that calls hiredis.
///
/// `@unchecked Sendable` (the one such box for hiredis): the context is
/// created on its connection's ``BlockingWorker`` thread and used only there;
/// the one cross-thread operation, ``interrupt()``, touches just the socket
/// and is serialised with `redisFree` by a lock, so it can never shut down a
/// descriptor number that was already closed and reused.
final class HiredisHandle: @unchecked Sendable {
    private var context: UnsafeMutablePointer<redisContext>?
    /// The socket while the context is alive.
    private let socket: Mutex<Int32?>
    private let interrupted = Atomic<Bool>(false)

    private init(context: UnsafeMutablePointer<redisContext>) {
        self.context = context
        self.socket = Mutex(context.pointee.fd)
    }

    deinit {
        self.finish()
    }

    /// Connects with `redisConnectWithTimeout`; the context is freed on failure too.
    static func connect(host: String, port: Int, timeout: Duration) throws(RedisError) -> HiredisHandle {
        guard let context = redisConnectWithTimeout(host, Int32(port), timeval(timeout)) else {
            throw RedisError(kind: .connectionFailed, details: "hiredis could not allocate a context")
        }
        guard context.pointee.err == 0 else {
            let details = errorText(context)
            // hiredis returns a context carrying the error; it is still ours to free.
            redisFree(context)
            throw RedisError(kind: .connectionFailed, details: details)
        }
        _ = redisEnableKeepAlive(context)
        return HiredisHandle(context: context)
    }

    /// Frees the context (closing the socket); safe to call more than once.
    func finish() {
        guard let context else { return }
        self.context = nil
        self.socket.withLock { socket in
            socket = nil
            redisFree(context)
        }
    }

    /// Wakes a call blocked on the socket, from any thread; the connection
    /// is unusable afterwards.
    func interrupt() {
        self.interrupted.store(true, ordering: .relaxed)
        self.socket.withLock { socket in
            if let socket { _ = shutdown(socket, Int32(SHUT_RDWR)) }
        }
    }

    /// Whether ``interrupt()`` was called.
    var wasInterrupted: Bool { self.interrupted.load(ordering: .relaxed) }

    /// Sets the socket read/write timeout (`nil`: none).
    func setTimeout(_ timeout: Duration?) throws(RedisError) {
        let context = try self.open()
        guard redisSetTimeout(context, timeval(timeout ?? .zero)) == REDIS_OK else {
            throw RedisError(kind: .connectionLost, details: "cannot set the socket timeout")
        }
    }

    /// Sends one command with `redisCommandArgv` and reads its reply.
    func command(_ arguments: [[UInt8]]) throws(RedisError) -> RedisValue {
        let context = try self.open()
        guard !arguments.isEmpty else { throw RedisError(kind: .invalidCommand, details: "empty command") }
        let reply = withArgv(arguments) { count, argv, lengths in redisCommandArgv(context, count, argv, lengths) }
        guard let reply else { throw self.contextError(context) }
        defer { freeReplyObject(reply) }
        return Self.value(of: reply.assumingMemoryBound(to: redisReply.self))
    }

    /// Buffers one command (`redisAppendCommandArgv`); it is written on the next read.
    func append(_ arguments: [[UInt8]]) throws(RedisError) {
        let context = try self.open()
        guard !arguments.isEmpty else { throw RedisError(kind: .invalidCommand, details: "empty command") }
        let status = withArgv(arguments) { count, argv, lengths in redisAppendCommandArgv(context, count, argv, lengths) }
        guard status == REDIS_OK else { throw self.contextError(context) }
    }

    /// Reads the next reply (`redisGetReply`), flushing buffered commands first.
    func readReply() throws(RedisError) -> RedisValue {
        let context = try self.open()
        var reply: UnsafeMutableRawPointer?
        guard redisGetReply(context, &reply) == REDIS_OK, let reply else { throw self.contextError(context) }
        defer { freeReplyObject(reply) }
        return Self.value(of: reply.assumingMemoryBound(to: redisReply.self))
    }

    /// Whether the idle connection can be handed out again: no error so far
    /// and nothing readable (an idle Redis connection only becomes readable
    /// when the server closes it).
    func isReusable() -> Bool {
        guard let context, context.pointee.err == 0, !self.wasInterrupted else { return false }
        var descriptor = pollfd(fd: context.pointee.fd, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) == 0
    }

    private func open() throws(RedisError) -> UnsafeMutablePointer<redisContext> {
        guard let context else { throw RedisError(kind: .connectionClosed) }
        return context
    }

    private func contextError(_ context: UnsafeMutablePointer<redisContext>) -> RedisError {
        let details = Self.errorText(context)
        if self.wasInterrupted { return RedisError(kind: .connectionClosed, details: details) }
        if context.pointee.err == REDIS_ERR_IO, errno == EAGAIN || errno == EWOULDBLOCK {
            return RedisError(kind: .timedOut, details: details)
        }
        return RedisError(kind: .connectionLost, details: details)
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }

    /// Copies a reply tree into Swift values (the caller frees the C tree).
    private static func value(of reply: UnsafeMutablePointer<redisReply>) -> RedisValue {
        let node = reply.pointee
        switch node.type {
        case REDIS_REPLY_STRING:
            return .bulk(bytes(node.str, node.len))
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: bytes(node.str, node.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: bytes(node.str, node.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(node.integer))
        case REDIS_REPLY_ARRAY:
            var elements: [RedisValue] = []
            elements.reserveCapacity(Int(node.elements))
            for index in 0..<Int(node.elements) {
                guard let element = node.element[index] else { elements.append(.null); continue }
                elements.append(value(of: element))
            }
            return .array(elements)
        default:
            return .null
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ length: Int) -> [UInt8] {
        guard let pointer, length > 0 else { return [] }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            Array(UnsafeBufferPointer(start: $0, count: length))
        }
    }
}

/// Lends arguments to hiredis as `argc`, `argv` and `argvlen`: lengths are
/// explicit, so arguments may hold any bytes, NUL included.
private func withArgv<Result>(
    _ arguments: [[UInt8]],
    _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> Result
) -> Result {
    var buffers: [UnsafeMutableBufferPointer<CChar>] = []
    buffers.reserveCapacity(arguments.count)
    for argument in arguments {
        let buffer = UnsafeMutableBufferPointer<CChar>.allocate(capacity: max(1, argument.count))
        argument.withUnsafeBytes { raw in
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: raw)
        }
        buffers.append(buffer)
    }
    defer {
        for buffer in buffers { buffer.deallocate() }
    }
    var pointers: [UnsafePointer<CChar>?] = buffers.map { UnsafePointer($0.baseAddress) }
    let lengths = arguments.map(\.count)
    return pointers.withUnsafeMutableBufferPointer { argv in
        lengths.withUnsafeBufferPointer { argvlen in
            body(Int32(arguments.count), argv.baseAddress!, argvlen.baseAddress!)
        }
    }
}

extension timeval {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self.init(tv_sec: time_t(seconds), tv_usec: suseconds_t(attoseconds / 1_000_000_000_000))
    }
}
