extension RandomState {
  /// `np.random.shuffle(x)` for a one-dimensional array: an in-place Fisher–Yates shuffle.
  ///
  /// For `i` from `count - 1` down to 1, numpy draws `j = random_interval(i)` and swaps
  /// positions `i` and `j`. Reference: R. Durstenfeld, "Algorithm 235: Random permutation",
  /// CACM 7(7), 1964.
  ///
  /// - Complexity: O(count) swaps; about 1.4 32-bit draws per swap on average from the
  ///   rejection in `random_interval`.
  public mutating func shuffle<T>(_ array: inout [T]) {
    let n = array.count
    guard n > 1 else { return }
    withCursor { (c: inout MTCursor) -> Void in
      array.withUnsafeMutableBufferPointer { buffer in
        var i = n - 1
        while i > 0 {
          let j = Int(c.interval(UInt64(i)))
          buffer.swapAt(i, j)
          i -= 1
        }
      }
    }
  }

  /// `np.random.permutation(n)`: `np.arange(n)` shuffled by ``shuffle(_:)``.
  ///
  /// - Returns: a permutation of `0..<n`; empty when `n <= 0`, as `np.arange(n)` is empty.
  public mutating func permutation(_ n: Int) -> [Int] {
    guard n > 0 else { return [] }
    var values = Array(0..<n)
    shuffle(&values)
    return values
  }

  /// `np.random.choice(a, size, replace=False)` without `p`: `a[permutation(len(a))[:size]]`.
  ///
  /// The whole permutation is drawn even when `size` is small or zero, so the generator
  /// advances by the same amount as numpy's.
  ///
  /// - Throws: ``NoiseGenerationError/numpy(message:)`` with numpy's message when `size` is
  ///   negative, larger than `a`, or `a` is empty while `size > 0`.
  public mutating func choice<T>(_ a: [T], size: Int) throws(NoiseGenerationError) -> [T] {
    if a.isEmpty && size != 0 {
      throw .numpy(message: "'a' cannot be empty unless no samples are taken")
    }
    if size > a.count {
      throw .numpy(
        message: "Cannot take a larger sample than population when 'replace=False'")
    }
    if size < 0 { throw .numpy(message: "Negative dimensions are not allowed") }
    let order = permutation(a.count)
    return order.prefix(size).map { a[$0] }
  }

  /// numpy's `permutation(count)` written into `buffer` as 32-bit indices.
  ///
  /// This is the hot loop of `generate_noisy_labels`: the same draws and swaps as
  /// ``permutation(_:)``, but on compact indices without allocation. `cancellation` is consulted
  /// every 2**20 swaps.
  ///
  /// - Throws: ``NoiseGenerationError/invalidArgument(argument:reason:)`` for more than 2**32
  ///   indices, ``NoiseGenerationError/cancelled``.
  @usableFromInline
  mutating func permuteIdentity(
    _ buffer: UnsafeMutableBufferPointer<UInt32>, cancellation: Cancellation = .none
  ) throws(NoiseGenerationError) {
    let n = buffer.count
    guard n > 1, let base = buffer.baseAddress else {
      if n == 1 { buffer[0] = 0 }
      return
    }
    guard UInt64(n) <= 1 << 32 else {
      throw .invalidArgument(
        argument: "true_labels", reason: "a class has more than 2**32 examples")
    }
    for i in 0..<n { base[i] = UInt32(truncatingIfNeeded: i) }
    var i = n - 1
    while i > 0 {
      let stop = Swift.max(i - (1 << 20), 0)
      withCursor { (c: inout MTCursor) -> Void in
        while i > stop {
          let bound = UInt32(truncatingIfNeeded: i)
          let mask = UInt32.max >> UInt32(bound.leadingZeroBitCount)
          var j = c.next32() & mask
          while j > bound { j = c.next32() & mask }
          let target = Int(j)
          let displaced = base[target]
          base[target] = base[i]
          base[i] = displaced
          i -= 1
        }
      }
      if i > 0 { try cancellation.check() }
    }
  }
}
