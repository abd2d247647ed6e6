/// The 32-bit Mersenne Twister MT19937, as numpy's `numpy/random/src/mt19937/mt19937.c` runs it.
///
/// Reference: M. Matsumoto and T. Nishimura, "Mersenne Twister: a 623-dimensionally
/// equidistributed uniform pseudo-random number generator", ACM TOMACS 8(1), 1998.
///
/// The state is 624 words plus a position. Outputs are produced a block at a time: when the
/// position reaches 624 the whole key is regenerated (numpy's `mt19937_gen`), then each output is
/// one key word run through the tempering transform.
@usableFromInline
enum MT19937 {
  @usableFromInline static let n = 624
  @usableFromInline static let m = 397

  /// numpy's `mt19937_seed`: Knuth's linear recurrence with multiplier 1812433253
  /// (`init_genrand` in the reference code), leaving the position at the end of the block.
  @usableFromInline
  static func seededKey(_ seed: UInt32) -> [UInt32] {
    var key = [UInt32](repeating: 0, count: n)
    var s = seed
    for pos in 0..<n {
      key[pos] = s
      s = 1_812_433_253 &* (s ^ (s >> 30)) &+ UInt32(pos + 1)
    }
    return key
  }

  @inline(__always) @usableFromInline
  static func twist(_ current: UInt32, _ next: UInt32, _ far: UInt32) -> UInt32 {
    let y = (current & 0x8000_0000) | (next & 0x7fff_ffff)
    return far ^ (y >> 1) ^ ((0 &- (y & 1)) & 0x9908_b0df)
  }

  /// numpy's `mt19937_gen`: regenerates all 624 words in place.
  @usableFromInline
  static func regenerate(_ key: UnsafeMutablePointer<UInt32>) {
    var i = 0
    while i < n - m {
      key[i] = twist(key[i], key[i + 1], key[i + m])
      i += 1
    }
    while i < n - 1 {
      key[i] = twist(key[i], key[i + 1], key[i + m - n])
      i += 1
    }
    key[n - 1] = twist(key[n - 1], key[0], key[m - 1])
  }

  @inline(__always) @usableFromInline
  static func temper(_ word: UInt32) -> UInt32 {
    var y = word
    y ^= y >> 11
    y ^= (y << 7) & 0x9d2c_5680
    y ^= (y << 15) & 0xefc6_0000
    y ^= y >> 18
    return y
  }
}

/// A borrowed, pointer-based view of a ``RandomState`` for tight loops.
///
/// Obtained through `RandomState.withCursor`; the pointer is valid only inside that call.
@usableFromInline
struct MTCursor {
  @usableFromInline let key: UnsafeMutablePointer<UInt32>
  @usableFromInline var pos: Int

  @inlinable init(key: UnsafeMutablePointer<UInt32>, pos: Int) {
    self.key = key
    self.pos = pos
  }

  /// numpy's `mt19937_next32`.
  @inline(__always) @inlinable
  mutating func next32() -> UInt32 {
    if pos >= MT19937.n {
      MT19937.regenerate(key)
      pos = 0
    }
    let word = key[pos]
    pos += 1
    return MT19937.temper(word)
  }

  /// numpy's `mt19937_next64`: the first 32-bit draw is the high half.
  @inline(__always) @inlinable
  mutating func next64() -> UInt64 {
    let high = UInt64(next32())
    return high << 32 | UInt64(next32())
  }

  /// numpy's `mt19937_next_double` (`random_sample`, `rand`): 53 random bits in [0, 1).
  @inline(__always) @inlinable
  mutating func nextDouble() -> Double {
    let a = next32() >> 5
    let b = next32() >> 6
    return (Double(a) * 67_108_864.0 + Double(b)) / 9_007_199_254_740_992.0
  }

  /// numpy's `random_interval(max)`: a uniform integer in `0...max` by masked rejection.
  ///
  /// The mask is the smallest all-ones value not below `max`; 32-bit draws are used while
  /// `max` fits in 32 bits, 64-bit draws beyond. `max == 0` draws nothing.
  @inline(__always) @inlinable
  mutating func interval(_ max: UInt64) -> UInt64 {
    if max == 0 { return 0 }
    let mask = UInt64.max >> UInt64(max.leadingZeroBitCount)
    if max <= 0xffff_ffff {
      let mask32 = UInt32(truncatingIfNeeded: mask)
      let max32 = UInt32(truncatingIfNeeded: max)
      while true {
        let value = next32() & mask32
        if value <= max32 { return UInt64(value) }
      }
    }
    while true {
      let value = next64() & mask
      if value <= max { return value }
    }
  }
}
