/// numpy's legacy `RandomState` over MT19937, reproduced bit for bit.
///
/// `RandomState(seed: s)` is the state numpy's global generator has after `np.random.seed(s)`;
/// the methods then return exactly what numpy's global functions return, draw for draw. This is
/// a value type: copies are independent generators, and no state is shared between instances,
/// so concurrent callers each own theirs.
///
/// The primitives cleanlab relies on live in their own files: ``rand()`` and
/// ``randomSample(count:)`` here, ``dirichletOnes(count:)``, ``permutation(_:)``,
/// ``shuffle(_:)``, ``choice(_:size:)`` (without replacement) and ``choice(classes:size:p:)``.
public struct RandomState: Sendable, Equatable {
  @usableFromInline var key: [UInt32]
  @usableFromInline var pos: Int

  /// The largest seed numpy's `np.random.seed` accepts, `2**32 - 1`.
  public static let maxSeed = Int(UInt32.max)

  /// The state after `np.random.seed(seed)`.
  public init(seed: UInt32) {
    key = MT19937.seededKey(seed)
    pos = MT19937.n
  }

  /// The state after `np.random.seed(seed)`.
  ///
  /// - Throws: ``NoiseGenerationError/numpy(message:)`` with numpy's message when `seed` is
  ///   outside `0...4294967295`.
  public init(seed: Int) throws(NoiseGenerationError) {
    guard seed >= 0, seed <= RandomState.maxSeed else {
      throw .numpy(message: "Seed must be between 0 and 2**32 - 1")
    }
    self.init(seed: UInt32(seed))
  }

  /// Restores a state as numpy's `get_state()` reports it: 624 key words and a position.
  ///
  /// - Throws: ``NoiseGenerationError/invalidArgument(argument:reason:)`` unless `key` has 624
  ///   words and `position` is in `0...624`.
  public init(key: [UInt32], position: Int) throws(NoiseGenerationError) {
    guard key.count == MT19937.n else {
      throw .invalidArgument(argument: "key", reason: "must hold 624 words, has \(key.count)")
    }
    guard position >= 0, position <= MT19937.n else {
      throw .invalidArgument(argument: "position", reason: "must be in 0...624, is \(position)")
    }
    self.key = key
    self.pos = position
  }

  /// The 624 key words, as the second item of numpy's `get_state()`.
  public var stateKey: [UInt32] { key }
  /// The position in the key, as the third item of numpy's `get_state()`.
  public var statePosition: Int { pos }

  /// Runs `body` with a pointer-based cursor over this state, then stores the cursor's position.
  @inlinable
  mutating func withCursor<R, E: Error>(_ body: (inout MTCursor) throws(E) -> R) throws(E) -> R {
    let position = pos
    let result: Result<R, E> = key.withUnsafeMutableBufferPointer { buffer in
      var cursor = MTCursor(key: buffer.baseAddress!, pos: position)
      defer { pos = cursor.pos }
      do throws(E) {
        return .success(try body(&cursor))
      } catch {
        return .failure(error)
      }
    }
    return try result.get()
  }

  /// The next raw 32-bit output (numpy's `next_uint32`).
  @inlinable public mutating func nextUInt32() -> UInt32 {
    withCursor { (c: inout MTCursor) -> UInt32 in c.next32() }
  }

  /// The next raw 64-bit output (numpy's `next_uint64`: high half first).
  @inlinable public mutating func nextUInt64() -> UInt64 {
    withCursor { (c: inout MTCursor) -> UInt64 in c.next64() }
  }

  /// `np.random.rand()` / `random_sample()`: `((a >> 5) * 2**26 + (b >> 6)) / 2**53`.
  @inlinable public mutating func rand() -> Double {
    withCursor { (c: inout MTCursor) -> Double in c.nextDouble() }
  }

  /// `np.random.random_sample(count)`: `count` draws of ``rand()``, in order.
  public mutating func randomSample(count: Int) -> [Double] {
    let n = Swift.max(count, 0)
    return withCursor { (c: inout MTCursor) -> [Double] in
      [Double](unsafeUninitializedCapacity: n) { buffer, initialized in
        for i in 0..<n { buffer[i] = c.nextDouble() }
        initialized = n
      }
    }
  }

  /// numpy's `random_interval(max)`: uniform in `0...max` by masked rejection sampling.
  @inlinable public mutating func randomInterval(_ max: UInt64) -> UInt64 {
    withCursor { (c: inout MTCursor) -> UInt64 in c.interval(max) }
  }
}
