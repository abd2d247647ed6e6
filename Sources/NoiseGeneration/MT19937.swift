/// The 32-bit Mersenne Twister MT19937, as numpy's `numpy/random/src/mt19937/mt19937.c` runs it.
///
/// Reference: M. Matsumoto and T. Nishimura, "Mersenne Twister: a 623-dimensionally
/// equidistributed uniform pseudo-random number generator", ACM TOMACS 8(1), 1998.
///
/// numpy's state is 624 key words and a position. When the position reaches 624 the whole key is
/// regenerated in place (`mt19937_gen`), and each output is one key word run through the
/// tempering transform. This implementation produces exactly the same outputs, organized for
/// speed:
/// - The regeneration of a block is done incrementally, in order, as outputs are needed, and
///   tempered outputs are kept in a second buffer. Word `i` of a block depends only on words
///   `i`, `i+1` and `i+397` of the previous block (or `i-227` of the new one), so computing the
///   block in order in several steps gives numpy's block.
/// - Seeding (`mt19937_seed`, a strictly sequential recurrence over 624 words) is also done
///   lazily: word `i` of the first block needs seeded words only up to `i+397`, so a call that
///   draws a few dozen numbers computes about two thirds of the chain.
/// Exporting the state (``RandomState/stateKey``) completes both, so it always reports numpy's
/// key.
@usableFromInline
enum MT19937 {
  @usableFromInline static let n = 624
  @usableFromInline static let m = 397

  @inline(__always) @usableFromInline
  static func twist(_ current: UInt32, _ next: UInt32, _ far: UInt32) -> UInt32 {
    let y = (current & 0x8000_0000) | (next & 0x7fff_ffff)
    return far ^ (y >> 1) ^ ((0 &- (y & 1)) & 0x9908_b0df)
  }

  @inline(__always) @usableFromInline
  static func twist8(_ current: SIMD8<UInt32>, _ next: SIMD8<UInt32>, _ far: SIMD8<UInt32>)
    -> SIMD8<UInt32>
  {
    let y = (current & 0x8000_0000) | (next & 0x7fff_ffff)
    let odd = (SIMD8<UInt32>(repeating: 0) &- (y & 1)) & 0x9908_b0df
    return far ^ (y &>> 1) ^ odd
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

  @inline(__always) @usableFromInline
  static func temper8(_ word: SIMD8<UInt32>) -> SIMD8<UInt32> {
    var y = word
    y ^= y &>> 11
    y ^= (y &<< 7) & 0x9d2c_5680
    y ^= (y &<< 15) & 0xefc6_0000
    y ^= y &>> 18
    return y
  }

  /// The seeding recurrence `s' = 1812433253 * (s ^ (s >> 30)) + index` (Knuth, TAOCP vol. 2,
  /// 3rd ed., p. 106), numpy's `mt19937_seed`.
  @inline(__always) @usableFromInline
  static func nextSeedWord(_ previous: UInt32, index: Int) -> UInt32 {
    1_812_433_253 &* (previous ^ (previous >> 30)) &+ UInt32(truncatingIfNeeded: index)
  }
}

/// The generator's words: numpy's key, the tempered outputs of the current block, and the
/// bookkeeping of lazy seeding and incremental regeneration.
///
/// Invariants, with `pos` numpy's position:
/// - `key[0..<ready]` is the current block; `key[ready..<624]` is still the previous block (or,
///   before the first block, the seed words `key[0..<seeded]`, the rest not yet computed).
/// - `tempered[i] == temper(key[i])` for `i < ready`.
/// - `pos <= ready`, except that `pos == ready == 624` means the block is used up.
@usableFromInline
struct MTWords {
  @usableFromInline var key: UnsafeMutablePointer<UInt32>
  @usableFromInline var tempered: UnsafeMutablePointer<UInt32>
  @usableFromInline var pos: Int
  @usableFromInline var ready: Int
  /// How many words of the initial seeding exist; 624 once seeding is complete.
  @usableFromInline var seeded: Int

  @inlinable init(
    key: UnsafeMutablePointer<UInt32>, tempered: UnsafeMutablePointer<UInt32>, pos: Int,
    ready: Int, seeded: Int
  ) {
    self.key = key
    self.tempered = tempered
    self.pos = pos
    self.ready = ready
    self.seeded = seeded
  }

  /// numpy's `mt19937_next32`.
  @inline(__always) @inlinable
  mutating func next32() -> UInt32 {
    if pos == ready { refill(atLeast: 1) }
    let word = tempered[pos]
    pos &+= 1
    return word
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

  /// Makes up to `count` words available at once (as many as the current block holds), so the
  /// draws that follow regenerate the block in one step rather than 64 words at a time. Ask
  /// only for words that will be drawn: with lazy seeding, words made available early cost
  /// seeding work too.
  @inline(__always) @inlinable
  mutating func reserve(_ count: Int) {
    if ready &- pos < count { refill(atLeast: count) }
  }

  /// Makes at least `count` words available after `pos` in the current block (fewer only at the
  /// end of a block), starting a new block when this one is used up.
  @usableFromInline
  mutating func refill(atLeast count: Int) {
    if pos == MT19937.n {
      pos = 0
      ready = 0
    }
    let target = Swift.min(MT19937.n, Swift.max(pos + count, ready + 64))
    advance(to: target)
  }

  /// Makes the rest of the current block available (`ready == 624`), starting a new block when
  /// this one is used up.
  @usableFromInline
  mutating func fillBlock() {
    if pos == MT19937.n {
      pos = 0
      ready = 0
    }
    advance(to: MT19937.n)
  }

  /// Regenerates and tempers words `ready..<target` of the current block.
  @usableFromInline
  mutating func advance(to target: Int) {
    let n = MT19937.n
    let m = MT19937.m
    guard target > ready else { return }
    if seeded < n {
      // word i reads words i + 1 and, below n - m, i + m of the seed
      let needed =
        ready < n - m ? Swift.min(n, Swift.max(target + 1, Swift.min(target, n - m) + m)) : n
      extendSeed(to: Swift.max(needed, target == n ? n : 0))
    }
    let raw = UnsafeMutableRawPointer(key)
    let out = UnsafeMutableRawPointer(tempered)
    let stride = MemoryLayout<UInt32>.stride
    var i = ready
    while i < target {
      if i < n - m {
        let end = Swift.min(target, n - m)
        while i + 8 <= end {
          let current = raw.loadUnaligned(fromByteOffset: i * stride, as: SIMD8<UInt32>.self)
          let next = raw.loadUnaligned(fromByteOffset: (i + 1) * stride, as: SIMD8<UInt32>.self)
          let far = raw.loadUnaligned(fromByteOffset: (i + m) * stride, as: SIMD8<UInt32>.self)
          let word = MT19937.twist8(current, next, far)
          raw.storeBytes(of: word, toByteOffset: i * stride, as: SIMD8<UInt32>.self)
          out.storeBytes(
            of: MT19937.temper8(word), toByteOffset: i * stride, as: SIMD8<UInt32>.self)
          i += 8
        }
        while i < end {
          key[i] = MT19937.twist(key[i], key[i + 1], key[i + m])
          tempered[i] = MT19937.temper(key[i])
          i += 1
        }
      } else if i < n - 1 {
        let end = Swift.min(target, n - 1)
        while i + 8 <= end {
          let current = raw.loadUnaligned(fromByteOffset: i * stride, as: SIMD8<UInt32>.self)
          let next = raw.loadUnaligned(fromByteOffset: (i + 1) * stride, as: SIMD8<UInt32>.self)
          let far = raw.loadUnaligned(
            fromByteOffset: (i + m - n) * stride, as: SIMD8<UInt32>.self)
          let word = MT19937.twist8(current, next, far)
          raw.storeBytes(of: word, toByteOffset: i * stride, as: SIMD8<UInt32>.self)
          out.storeBytes(
            of: MT19937.temper8(word), toByteOffset: i * stride, as: SIMD8<UInt32>.self)
          i += 8
        }
        while i < end {
          key[i] = MT19937.twist(key[i], key[i + 1], key[i + m - n])
          tempered[i] = MT19937.temper(key[i])
          i += 1
        }
      } else {
        key[n - 1] = MT19937.twist(key[n - 1], key[0], key[m - 1])
        tempered[n - 1] = MT19937.temper(key[n - 1])
        i = n
      }
    }
    ready = target
  }

  /// Continues the seeding recurrence up to word `count`.
  @usableFromInline
  mutating func extendSeed(to count: Int) {
    guard count > seeded else { return }
    var previous = key[seeded - 1]
    for i in seeded..<count {
      previous = MT19937.nextSeedWord(previous, index: i)
      key[i] = previous
    }
    seeded = count
  }
}
