import Glibc
import Synchronization

/// A counting semaphore whose waits end at a deadline: the compute slots (`--threads`).
final class ComputeGate: @unchecked Sendable {
  private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
  private var available: Int

  init(slots: Int) {
    available = slots
    mutex.initialize(to: pthread_mutex_t())
    condition.initialize(to: pthread_cond_t())
    pthread_mutex_init(mutex, nil)
    var attributes = pthread_condattr_t()
    pthread_condattr_init(&attributes)
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
    pthread_cond_init(condition, &attributes)
    pthread_condattr_destroy(&attributes)
  }

  deinit {
    pthread_cond_destroy(condition)
    pthread_mutex_destroy(mutex)
    condition.deallocate()
    mutex.deallocate()
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
    pthread_mutex_lock(mutex)
    defer { pthread_mutex_unlock(mutex) }
    while available == 0 {
      if remaining <= .zero { return false }
      if pthread_cond_timedwait(condition, mutex, &until) == ETIMEDOUT && available == 0 {
        return false
      }
    }
    available -= 1
    return true
  }

  func release() {
    pthread_mutex_lock(mutex)
    available += 1
    pthread_cond_signal(condition)
    pthread_mutex_unlock(mutex)
  }
}

/// One request's claim on the compute slots.
///
/// A slot is what lets a request use a core for long: at most `--threads` requests hold one at
/// a time, and the others wait for one within their deadline. Short requests do not need one,
/// so that a few long requests occupying every slot cannot stall the many short ones. A request
/// is short while its estimated work (``NoiseMatrixRequest/work`` and the like, known once it is
/// decoded) is at most ``lightWork`` and it has run for less than ``lightTime``. A request that
/// is estimated heavier takes a slot before it starts; one that turns out to run longer (it
/// iterates: `max_iter`, adjustment loops) takes one at its next cancellation check, waiting
/// there if every slot is held. Either wait ends at the request's deadline with a 503.
final class Admission: @unchecked Sendable {
  /// About a millisecond of work.
  static let lightWork = 200_000
  /// How long a request may compute without a slot.
  static let lightTime = Duration.milliseconds(5)

  let deadline: ContinuousClock.Instant
  private let gate: ComputeGate
  private let started = ContinuousClock.now
  private let holding = Atomic<Bool>(false)
  private let starvedFlag = Atomic<Bool>(false)
  /// Serializes taking the slot when several threads of one `/batch` reach a check at once.
  private let taking = Locked(())

  init(gate: ComputeGate, deadline: ContinuousClock.Instant) {
    self.gate = gate
    self.deadline = deadline
  }

  /// Before starting work estimated at `work` units: takes a slot if the work is not light.
  /// Returns false if the deadline passed while waiting.
  func admit(work: Int) -> Bool {
    work <= Self.lightWork || takeSlot()
  }

  /// The cancellation probe: true once the deadline has passed, or when a request that has
  /// outgrown ``lightTime`` cannot get a slot before it.
  func shouldStop() -> Bool {
    let now = ContinuousClock.now
    if now >= deadline { return true }
    if holding.load(ordering: .relaxed) || now - started < Self.lightTime { return false }
    return !takeSlot()
  }

  private func takeSlot() -> Bool {
    taking.withLock { _ in
      if holding.load(ordering: .relaxed) { return true }
      guard gate.acquire(until: deadline) else {
        starvedFlag.store(true, ordering: .relaxed)
        return false
      }
      holding.store(true, ordering: .relaxed)
      return true
    }
  }

  /// Whether the request gave up waiting for a slot at its deadline.
  var starved: Bool { starvedFlag.load(ordering: .relaxed) }

  /// Gives the slot back, if the request took one.
  func finish() {
    if holding.exchange(false, ordering: .relaxed) { gate.release() }
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
