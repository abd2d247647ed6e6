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
    withWords { (c: inout MTWords) -> Void in
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
  /// - Throws: ``NoiseGenerationError/invalidArgument(argument:reason:)`` above
  ///   ``maxSampleCount``.
  public mutating func permutation(_ n: Int) throws(NoiseGenerationError) -> [Int] {
    guard n > 0 else { return [] }
    try Self.checkSampleCount(n, "n")
    if UInt64(n) <= 1 << 32 {
      var indices = [UInt32](repeating: 0, count: n)
      indices.withUnsafeMutableBufferPointer { try! permutationPrefix($0, prefix: n) }
      return indices.map { Int($0) }
    }
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
    let order = try permutation(a.count)
    return order.prefix(size).map { a[$0] }
  }

  /// numpy's `permutation(count)` written into `buffer` as 32-bit indices.
  ///
  /// The same draws and swaps as ``permutation(_:)``, on compact indices without allocation.
  /// `cancellation` is consulted every 2048 blocks of 624 draws.
  ///
  /// - Throws: ``NoiseGenerationError/invalidArgument(argument:reason:)`` for more than 2**32
  ///   indices, ``NoiseGenerationError/cancelled``.
  @usableFromInline
  mutating func permuteIdentity(
    _ buffer: UnsafeMutableBufferPointer<UInt32>, cancellation: Cancellation = .none
  ) throws(NoiseGenerationError) {
    try permutationPrefix(buffer, prefix: buffer.count, cancellation: cancellation)
  }

  /// The first `prefix` entries of numpy's `permutation(buffer.count)`, written into
  /// `buffer[0..<prefix]`; the rest of `buffer` is scratch. The generator advances exactly as
  /// numpy's does for the whole permutation.
  ///
  /// This is the hot loop of `generate_noisy_labels`, which only keeps the first `len(noise)`
  /// entries of each class's permutation. In numpy's shuffle, step `i` (from `count - 1` down)
  /// swaps positions `i` and `j <= i`, after which position `i` is never read again. So while
  /// `i >= prefix`, where position `i` is not kept, the swap reduces to moving the value at `i`
  /// down to `j`: one sequential read and one random write, no random read. Below `prefix` the
  /// steps are full swaps.
  ///
  /// Draws come from blocks of pre-tempered words in a loop without data-dependent branches:
  /// a word gives the candidate `word & mask`; when it is above the bound (numpy rejects it and
  /// draws again) the step acts on position `i` itself, which changes nothing, and `i` does not
  /// advance. The mask only changes when `i` falls below a power of two, so each inner loop runs
  /// where it is constant. Without branches, the memory accesses of many steps overlap.
  ///
  /// `cancellation` is consulted every 2048 blocks (about 1.3 million draws), so the small
  /// permutations of `generate_noise_matrix_from_trace` never read the clock here; their
  /// callers check between iterations.
  ///
  /// - Complexity: O(count) time, about 1.4 32-bit draws per step.
  @usableFromInline
  mutating func permutationPrefix(
    _ buffer: UnsafeMutableBufferPointer<UInt32>, prefix: Int, cancellation: Cancellation = .none
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
    let kept = UInt32(truncatingIfNeeded: Swift.max(Swift.min(prefix, n), 1))
    for i in 0..<n { base[i] = UInt32(truncatingIfNeeded: i) }
    var stopped = false
    withWords { (words: inout MTWords) -> Void in
      let block = words.tempered
      let blockLength = MT19937.n
      var bound = UInt32(truncatingIfNeeded: n - 1)
      var blocks = 0
      while bound > 0 {
        if words.pos == words.ready {
          if words.pos == blockLength {
            blocks += 1
            if blocks & 2047 == 0 && cancellation.isCancelled {
              stopped = true
              break
            }
          }
          words.fillBlock()
        }
        let word = words.pos
        let available = words.ready - word
        let mask = UInt32.max >> UInt32(bound.leadingZeroBitCount)
        // the mask holds while bound >= floor; the move-only phase while bound >= kept
        let floor = (mask >> 1) &+ 1
        var b = bound
        if b >= kept {
          let steps = Swift.min(available, Int(b - Swift.max(floor, kept)) + 1)
          for w in word..<(word + steps) {
            let candidate = block[w] & mask
            // accept = 1 when candidate <= b, else 0; on rejection the target is b itself
            let accept = UInt32(truncatingIfNeeded: ((Int64(b) &- Int64(candidate)) >> 63) &+ 1)
            let target = Int(candidate ^ ((candidate ^ b) & (accept &- 1)))
            base[target] = base[Int(b)]
            b &-= accept
          }
          words.pos = word + steps
        } else {
          let steps = Swift.min(available, Int(b - floor) + 1)
          for w in word..<(word + steps) {
            let candidate = block[w] & mask
            let accept = UInt32(truncatingIfNeeded: ((Int64(b) &- Int64(candidate)) >> 63) &+ 1)
            let target = Int(candidate ^ ((candidate ^ b) & (accept &- 1)))
            let position = Int(b)
            let displaced = base[target]
            base[target] = base[position]
            base[position] = displaced
            b &-= accept
          }
          words.pos = word + steps
        }
        bound = b
      }
    }
    if stopped { throw .cancelled }
  }
}
