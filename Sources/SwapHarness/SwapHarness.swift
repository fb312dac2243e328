/// # SwapHarness
///
/// `swapctl up` without Docker: the topology's `local` environment booted as
/// native processes on free loopback ports. ``Supervisor`` starts PostgreSQL
/// (+ its extensions, the project's role and database), Redis, a Tansu broker
/// (+ the topics), every service replica with the environment
/// `ServiceEnvironment` defines, and nginx with the generated local
/// configuration and a certificate from a ``LocalCA``; each gated on its
/// readiness probe, in dependency order, independent ones in parallel.
///
/// Everything of a run lives in one state folder (`.swap/` beside
/// topology.yaml): `state.json` (pids with start times, ports, health
/// probes, timings), `logs/`, data folders, secret files. ``StackControl``
/// reads it from any process for `status` and `down`.
///
/// No child outlives its supervisor: each is started through
/// `setpriv --pdeathsig` from one long-lived thread, leads its own process
/// group, and is stopped in reverse order with its stop signal, then SIGKILL
/// to the group.
public enum SwapHarness {}
