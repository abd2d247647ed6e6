import Glibc
import Synchronization

/// Runs `first` on the calling thread and `second` on the process's helper thread, and returns
/// when both have returned. When the helper is busy with another caller's work (or could not be
/// started), `second` runs after `first` on the calling thread: the outcome never depends on
/// which thread ran what.
///
/// The two bodies must not write to the same memory: the caller arranges that, as
/// `generate_noisy_labels` does by giving each its own part of every array. Everything `second`
/// writes is visible to the caller when this returns.
///
/// Why a helper thread that outlives the call rather than a thread per call: on this project's
/// virtual machines, starting and joining a thread took 50–130 µs (median; outliers above a
/// millisecond), three times per `generate_noisy_labels` call, against 0.4 µs to hand work to a
/// thread that is already spinning and 20–35 µs to wake one that sleeps.
@usableFromInline
func concurrently(_ first: () -> Void, _ second: () -> Void) {
  guard let helper = HelperThread.shared, helper.acquire() else {
    first()
    second()
    return
  }
  withoutActuallyEscaping(second) { second in
    helper.post(ThreadJob(second))
    first()
    helper.waitAndRelease()
  }
}

/// A closure handed to the helper thread.
private final class ThreadJob {
  let body: () -> Void
  init(_ body: @escaping () -> Void) { self.body = body }
}

/// One thread, started on first use and kept for the life of the process, that runs the second
/// half of ``concurrently(_:_:)``. One caller uses it at a time (``acquire()``); the others run
/// both halves themselves.
///
/// After each job it spins for ``spinNanoseconds`` waiting for the next one, since a call hands
/// it several in a row (one per pass), then sleeps on a condition variable. It never holds memory
/// beyond its stack, and it never runs anything but jobs posted by ``concurrently(_:_:)``.
private final class HelperThread: @unchecked Sendable {
  /// nil when the thread could not be started.
  static let shared: HelperThread? = HelperThread()

  /// How long the helper spins after a job before it sleeps: long enough to bridge the serial
  /// steps between the passes of one call, short enough to cost nothing noticeable when idle.
  static let spinNanoseconds = 200_000

  private enum State: Int {
    case idle = 0
    case posted, done
  }

  /// Whether a caller holds the helper.
  private let held = Atomic<Bool>(false)
  /// `State` raw values; the job is published by the release store of `.posted`, its effects
  /// by the release store of `.done`.
  private let state = Atomic<Int>(State.idle.rawValue)
  /// Written by the holder before posting; read by the helper after seeing `.posted`.
  private var job: ThreadJob? = nil
  private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

  private init?() {
    pthread_mutex_init(mutex, nil)
    pthread_cond_init(condition, nil)
    var thread = pthread_t()
    let context = Unmanaged.passRetained(self).toOpaque()
    guard
      pthread_create(
        &thread, nil,
        { context in
          Unmanaged<HelperThread>.fromOpaque(context!).takeUnretainedValue().run()
          return nil
        }, context) == 0
    else {
      Unmanaged<HelperThread>.fromOpaque(context).release()
      return nil
    }
    pthread_detach(thread)
  }

  func acquire() -> Bool {
    held.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
  }

  func post(_ job: ThreadJob) {
    self.job = job
    pthread_mutex_lock(mutex)
    state.store(State.posted.rawValue, ordering: .releasing)
    pthread_cond_signal(condition)
    pthread_mutex_unlock(mutex)
  }

  /// Waits for the posted job to finish, drops it, and lets another caller acquire the helper.
  func waitAndRelease() {
    var spins = 0
    while state.load(ordering: .acquiring) != State.done.rawValue {
      spins += 1
      // the helper may have been descheduled: let it run rather than spin against it
      if spins & 1023 == 0 { sched_yield() }
    }
    job = nil
    state.store(State.idle.rawValue, ordering: .relaxed)
    held.store(false, ordering: .releasing)
  }

  private func run() {
    while true {
      waitForJob()
      job!.body()
      state.store(State.done.rawValue, ordering: .releasing)
    }
  }

  private func waitForJob() {
    let deadline = now() + Self.spinNanoseconds
    var spins = 0
    while state.load(ordering: .acquiring) != State.posted.rawValue {
      spins += 1
      if spins & 255 == 0 && now() > deadline {
        pthread_mutex_lock(mutex)
        while state.load(ordering: .acquiring) != State.posted.rawValue {
          pthread_cond_wait(condition, mutex)
        }
        pthread_mutex_unlock(mutex)
        return
      }
    }
  }

  private func now() -> Int {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return time.tv_sec * 1_000_000_000 + time.tv_nsec
  }
}
