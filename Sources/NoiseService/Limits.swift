import Glibc
import Synchronization

/// A counting semaphore whose waits end at a deadline: the compute slots (`--threads`).
final class ComputeGate: @unchecked Sendable {
  private var mutex = pthread_mutex_t()
  private var condition = pthread_cond_t()
  private var available: Int

  init(slots: Int) {
    available = slots
    pthread_mutex_init(&mutex, nil)
    var attributes = pthread_condattr_t()
    pthread_condattr_init(&attributes)
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
    pthread_cond_init(&condition, &attributes)
    pthread_condattr_destroy(&attributes)
  }

  deinit {
    pthread_cond_destroy(&condition)
    pthread_mutex_destroy(&mutex)
  }

  /// Takes a slot, waiting until `deadline` at most. Returns false if none became free.
  func acquire(until deadline: ContinuousClock.Instant) -> Bool {
    let remaining = deadline - ContinuousClock.now
    var until = timespec()
    clock_gettime(CLOCK_MONOTONIC, &until)
    let (seconds, attoseconds) = remaining.components
    if seconds > 0 || attoseconds > 0 {
      until.tv_sec += Int(seconds)
      until.tv_nsec += Int(attoseconds / 1_000_000_000)
      if until.tv_nsec >= 1_000_000_000 {
        until.tv_sec += 1
        until.tv_nsec -= 1_000_000_000
      }
    }
    pthread_mutex_lock(&mutex)
    defer { pthread_mutex_unlock(&mutex) }
    while available == 0 {
      if remaining <= .zero { return false }
      if pthread_cond_timedwait(&condition, &mutex, &until) == ETIMEDOUT && available == 0 {
        return false
      }
    }
    available -= 1
    return true
  }

  func release() {
    pthread_mutex_lock(&mutex)
    available += 1
    pthread_cond_signal(&condition)
    pthread_mutex_unlock(&mutex)
  }
}

/// The request-body memory held across all connections (`--max-inflight-bytes`).
final class MemoryBudget: Sendable {
  private let used = Atomic<Int>(0)
  let limit: Int

  init(limit: Int) { self.limit = limit }

  /// Reserves `bytes`, or returns false if that would exceed the limit.
  func reserve(_ bytes: Int) -> Bool {
    var current = used.load(ordering: .relaxed)
    while true {
      if current + bytes > limit { return false }
      let (exchanged, original) = used.compareExchange(
        expected: current, desired: current + bytes, ordering: .relaxed)
      if exchanged { return true }
      current = original
    }
  }

  func release(_ bytes: Int) {
    used.subtract(bytes, ordering: .relaxed)
  }

  var inUse: Int { used.load(ordering: .relaxed) }
}
