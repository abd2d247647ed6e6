import Glibc

/// A value behind a pthread mutex.
///
/// Not `Synchronization.Mutex`: on Linux that is a futex driven from the standard library, which
/// is not built with ThreadSanitizer's instrumentation, so ThreadSanitizer cannot see its
/// ordering and reports every access it guards as a race. pthread mutexes are intercepted.
final class Locked<Value>: @unchecked Sendable {
  private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  private var value: Value

  init(_ value: Value) {
    self.value = value
    mutex.initialize(to: pthread_mutex_t())
    pthread_mutex_init(mutex, nil)
  }

  deinit {
    pthread_mutex_destroy(mutex)
    mutex.deallocate()
  }

  func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
    pthread_mutex_lock(mutex)
    defer { pthread_mutex_unlock(mutex) }
    return try body(&value)
  }
}
