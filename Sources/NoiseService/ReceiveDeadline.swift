import Foundation
import Glibc
import Synchronization

/// Closes connections whose client takes longer than `--receive-timeout` to send a request.
///
/// libmicrohttpd's own timeout (`--idle-timeout`) measures silence, so a client that sends one
/// byte every few seconds (slowloris) keeps a connection, and its thread, forever. Here each
/// connection is registered when it opens; its clock starts then and restarts after each answer,
/// and stops while the request is being computed and answered. A sweeper thread shuts down the
/// socket of any connection whose clock passes the timeout; libmicrohttpd then sees the
/// connection end and closes it itself.
///
/// The socket is only shut down, never closed, and always under the registry's lock, while the
/// server unregisters a connection under the same lock before libmicrohttpd closes its socket:
/// so a descriptor that the sweeper touches is still the connection's own, never a reused one.
final class ReceiveDeadline: @unchecked Sendable {
  private struct Entry {
    var socket: Int32
    /// When the current wait for a request began; nil while a request is computed or answered.
    var since: ContinuousClock.Instant?
  }

  let timeout: Duration
  private let entries = Locked([Int: Entry]())
  private let nextID = Atomic<Int>(1)
  private let stopped = Atomic<Bool>(false)
  private let cut: @Sendable (Int32) -> Void

  /// `cut` shuts down a socket (both directions); it is called on the sweeper thread, under the
  /// registry's lock, for each connection past its deadline.
  init(timeout: Duration, cut: @escaping @Sendable (Int32) -> Void) {
    self.timeout = timeout
    self.cut = cut
  }

  /// Starts the sweeper thread: it wakes every quarter of the timeout, at most every second.
  func start() {
    let interval = Swift.min(Swift.max(timeout / 4, .milliseconds(10)), .seconds(1))
    let micros =
      UInt32(interval.components.seconds * 1_000_000)
      + UInt32(interval.components.attoseconds / 1_000_000_000_000)
    let thread = Thread { [self] in
      while !stopped.load(ordering: .relaxed) {
        usleep(micros)
        sweep(now: .now)
      }
    }
    thread.name = "receive-deadline"
    thread.start()
  }

  /// Stops the sweeper (it exits within one interval).
  func stop() { stopped.store(true, ordering: .relaxed) }

  /// A connection opened on `socket`; returns its registration, never 0.
  func opened(socket: Int32) -> Int {
    let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
    entries.withLock { $0[id] = Entry(socket: socket, since: .now) }
    return id
  }

  /// The connection is about to be closed: it must not be touched any more.
  func closed(_ id: Int) {
    _ = entries.withLock { $0.removeValue(forKey: id) }
  }

  /// The request has fully arrived (or is answered without reading the rest): stop the clock.
  func received(_ id: Int) {
    entries.withLock { $0[id]?.since = nil }
  }

  /// The answer has been sent: the clock restarts for the next request on this connection.
  func answered(_ id: Int) {
    entries.withLock { $0[id]?.since = .now }
  }

  /// Shuts down every connection past its deadline; returns how many.
  @discardableResult
  func sweep(now: ContinuousClock.Instant) -> Int {
    entries.withLock { entries in
      var count = 0
      for (id, entry) in entries {
        guard let since = entry.since, now - since > timeout else { continue }
        cut(entry.socket)
        entries[id]?.since = nil
        count += 1
      }
      return count
    }
  }
}
