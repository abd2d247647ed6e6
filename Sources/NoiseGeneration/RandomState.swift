/// numpy's legacy `RandomState` over MT19937, reproduced bit for bit.
///
/// `RandomState(seed: s)` is the state numpy's global generator has after `np.random.seed(s)`;
/// the methods then return exactly what numpy's global functions return, draw for draw. This is
/// a value type (copy-on-write): copies are independent generators, and no state is shared
/// between instances, so concurrent callers each own theirs.
///
/// The primitives cleanlab relies on live in their own files: ``rand()`` and
/// ``randomSample(count:)`` here, ``dirichletOnes(count:)``, ``permutation(_:)``,
/// ``shuffle(_:)``, ``choice(_:size:)`` (without replacement) and ``choice(classes:size:p:)``.
public struct RandomState: Sendable, Equatable {
  @usableFromInline var storage: MTStorage

  /// The largest seed numpy's `np.random.seed` accepts, `2**32 - 1`.
  public static let maxSeed = Int(UInt32.max)

  /// The most values one sampling call returns: 2**28 (2 GiB of doubles). numpy would raise
  /// `MemoryError` somewhere above this on most machines; the library throws instead of letting
  /// an allocation fail.
  public static let maxSampleCount = 1 << 28

  @usableFromInline
  static func checkSampleCount(_ count: Int, _ name: String) throws(NoiseGenerationError) {
    if count > maxSampleCount {
      throw .invalidArgument(argument: name, reason: "must be at most \(maxSampleCount)")
    }
  }

  /// The state after `np.random.seed(seed)`.
  public init(seed: UInt32) {
    storage = MTStorage()
    storage.reset(seed: seed)
  }

  /// `np.random.seed(seed)` on this generator: the state becomes that of
  /// `RandomState(seed: seed)`, in this value's own memory when it holds it alone.
  ///
  /// - Throws: ``NoiseGenerationError/numpy(message:)`` with numpy's message when `seed` is
  ///   outside `0...4294967295`; the state is then unchanged.
  public mutating func seed(_ seed: Int) throws(NoiseGenerationError) {
    try Self.checkSeed(seed)
    if !isKnownUniquelyReferenced(&storage) { storage = MTStorage() }
    storage.reset(seed: UInt32(seed))
  }

  /// The state after `np.random.seed(seed)`.
  ///
  /// - Throws: ``NoiseGenerationError/numpy(message:)`` with numpy's message when `seed` is
  ///   outside `0...4294967295`.
  public init(seed: Int) throws(NoiseGenerationError) {
    try Self.checkSeed(seed)
    self.init(seed: UInt32(seed))
  }

  /// numpy's range check of `np.random.seed`'s argument.
  static func checkSeed(_ seed: Int) throws(NoiseGenerationError) {
    guard seed >= 0, seed <= RandomState.maxSeed else {
      throw .numpy(message: "Seed must be between 0 and 2**32 - 1")
    }
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
    storage = MTStorage()
    for i in 0..<MT19937.n {
      storage.words[i] = key[i]
      storage.words[MT19937.n + i] = MT19937.temper(key[i])
    }
    storage.pos = position
    storage.ready = MT19937.n
    storage.seeded = MT19937.n
  }

  /// The 624 key words, as the second item of numpy's `get_state()`.
  public var stateKey: [UInt32] { storage.exported().key }
  /// The position in the key, as the third item of numpy's `get_state()`.
  public var statePosition: Int { storage.pos }

  public static func == (lhs: RandomState, rhs: RandomState) -> Bool {
    lhs.storage === rhs.storage || lhs.storage.exported() == rhs.storage.exported()
  }

  /// Runs `body` with pointer access to this generator's words, copying them first if shared.
  @inlinable
  mutating func withWords<R, E: Error>(_ body: (inout MTWords) throws(E) -> R) throws(E) -> R {
    makeUnique()
    let s = storage
    var words = MTWords(
      key: s.words, tempered: s.words + MT19937.n, pos: s.pos, ready: s.ready, seeded: s.seeded)
    defer {
      s.pos = words.pos
      s.ready = words.ready
      s.seeded = words.seeded
    }
    return try body(&words)
  }

  /// Gives this value storage of its own, so that its copies can then be used on other threads
  /// while this one is (a copy shares storage until its first draw, which would read this
  /// value's words while they change).
  @usableFromInline
  mutating func makeUnique() {
    if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
  }

  /// The next raw 32-bit output (numpy's `next_uint32`).
  @inlinable public mutating func nextUInt32() -> UInt32 {
    withWords { (w: inout MTWords) -> UInt32 in w.next32() }
  }

  /// The next raw 64-bit output (numpy's `next_uint64`: high half first).
  @inlinable public mutating func nextUInt64() -> UInt64 {
    withWords { (w: inout MTWords) -> UInt64 in w.next64() }
  }

  /// `np.random.rand()` / `random_sample()`: `((a >> 5) * 2**26 + (b >> 6)) / 2**53`.
  @inlinable public mutating func rand() -> Double {
    withWords { (w: inout MTWords) -> Double in w.nextDouble() }
  }

  /// `np.random.random_sample(count)`: `count` draws of ``rand()``, in order.
  ///
  /// - Throws: ``NoiseGenerationError/numpy(message:)`` for a negative count, as numpy does;
  ///   ``NoiseGenerationError/invalidArgument(argument:reason:)`` above ``maxSampleCount``.
  public mutating func randomSample(count: Int) throws(NoiseGenerationError) -> [Double] {
    if count < 0 { throw .numpy(message: "negative dimensions are not allowed") }
    try Self.checkSampleCount(count, "count")
    let n = count
    return withWords { (w: inout MTWords) -> [Double] in
      [Double](unsafeUninitializedCapacity: n) { buffer, initialized in
        for i in 0..<n { buffer[i] = w.nextDouble() }
        initialized = n
      }
    }
  }

  /// numpy's `random_interval(max)`: uniform in `0...max` by masked rejection sampling.
  @inlinable public mutating func randomInterval(_ max: UInt64) -> UInt64 {
    withWords { (w: inout MTWords) -> UInt64 in w.interval(max) }
  }
}

/// The heap storage behind ``RandomState``: 624 key words followed by 624 tempered words, and
/// the positions described at ``MTWords``. Mutated only through `RandomState.withWords`, which
/// copies it first when it is shared, so sharing it between threads is safe.
///
/// Everything lives in one allocation reached through `let` pointers: the class has no stored
/// `var`, so accessing the positions needs none of the runtime exclusivity checks that Swift
/// makes on a class's mutable stored properties (they were a tenth of a small call's time).
@usableFromInline
final class MTStorage: @unchecked Sendable {
  @usableFromInline let words: UnsafeMutablePointer<UInt32>
  /// `pos`, `ready` and `seeded`, in that order.
  @usableFromInline let positions: UnsafeMutablePointer<Int>

  /// Bytes before the words: the three positions, padded to 32 bytes.
  private static let header = 32

  @usableFromInline init() {
    // malloc's own alignment: asking for more goes through the much slower posix_memalign
    let raw = UnsafeMutableRawPointer.allocate(
      byteCount: Self.header + 2 * MT19937.n * MemoryLayout<UInt32>.stride, alignment: 16)
    positions = raw.bindMemory(to: Int.self, capacity: 3)
    positions.initialize(repeating: 0, count: 3)
    words = (raw + Self.header).bindMemory(to: UInt32.self, capacity: 2 * MT19937.n)
  }

  deinit { UnsafeMutableRawPointer(positions).deallocate() }

  @inlinable var pos: Int {
    get { positions[0] }
    set { positions[0] = newValue }
  }
  @inlinable var ready: Int {
    get { positions[1] }
    set { positions[1] = newValue }
  }
  @inlinable var seeded: Int {
    get { positions[2] }
    set { positions[2] = newValue }
  }

  /// Seeding is lazy (see ``MTWords``): only the seed word is stored, and the block is used up.
  @usableFromInline func reset(seed: UInt32) {
    words[0] = seed
    pos = MT19937.n
    ready = MT19937.n
    seeded = 1
  }

  @usableFromInline func copy() -> MTStorage {
    let other = MTStorage()
    other.words.update(from: words, count: 2 * MT19937.n)
    other.positions.update(from: positions, count: 3)
    return other
  }

  /// numpy's view of this state: the key with the seeding and the current block completed.
  struct Exported: Equatable {
    var key: [UInt32]
    var pos: Int
  }

  func exported() -> Exported {
    let scratch = UnsafeMutablePointer<UInt32>.allocate(capacity: 2 * MT19937.n)
    defer { scratch.deallocate() }
    scratch.update(from: words, count: 2 * MT19937.n)
    var view = MTWords(
      key: scratch, tempered: scratch + MT19937.n, pos: pos, ready: ready, seeded: seeded)
    view.extendSeed(to: MT19937.n)
    if view.ready < MT19937.n { view.advance(to: MT19937.n) }
    return Exported(key: Array(UnsafeBufferPointer(start: scratch, count: MT19937.n)), pos: pos)
  }
}
