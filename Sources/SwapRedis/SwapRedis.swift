/// # SwapRedis
///
/// A thin wrapper over hiredis's synchronous API for the Swap services:
/// ``RedisConnection``, a bounded ``RedisPool``, commands sent as binary-safe
/// argument vectors (`redisCommandArgv`, never format strings), replies
/// decoded into ``RedisValue``, pipelining, pub/sub as an
/// `AsyncThrowingStream`, and stream (XADD/XRANGE/XREAD) helpers. Only this
/// module imports `CHiredis`; no C type appears in its public API.
///
/// ## Where the blocking calls run
///
/// hiredis's synchronous calls (`redisConnectWithTimeout`,
/// `redisCommandArgv`, `redisGetReply`, `redisFree`) block the calling
/// thread. None of them runs on a NIO event loop or a Swift concurrency thread:
///
/// - Every connection owns one `BlockingWorker`, a single-thread
///   `NIOThreadPool` started with the connection and shut down when it is
///   closed or deinitialised; every hiredis call for that connection runs
///   there, in order.
/// - Async callers suspend in `withCheckedContinuation` and are resumed by
///   the worker thread once the call returns; replies are copied into
///   ``RedisValue`` and freed (`freeReplyObject`) before resuming.
/// - A pub/sub subscription has its own connection whose worker thread
///   loops on `redisGetReply`, yielding into the stream. Ending the stream
///   (consumer cancelled or dropped it, or the pool closed) shuts the
///   socket down from the calling thread, which wakes the blocked read; the
///   loop then frees the context on its own thread and finishes the stream
///   without an error.
/// - Commands that block server-side (`XREAD BLOCK`) extend the read timeout
///   for that call; cancelling the calling task shuts the socket down so the
///   call returns at once (the connection is then discarded).
///
/// ## Failures
///
/// ``RedisError``'s `description` never contains server text; ``RedisError/details``
/// does, for logs. A connection that hits an I/O or protocol error is marked
/// broken (hiredis contexts cannot be reused after one), and the pool
/// health-checks idle connections on checkout, so after a server restart at
/// most the in-flight calls fail and later ones reconnect.
public enum SwapRedis {}
