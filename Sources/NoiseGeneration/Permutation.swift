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

  /// Advances the generator exactly as ``permutation(_:)`` of `count` (or
  /// `permutationPrefix` of that many indices) does, without computing the permutation: the
  /// same draws, rejections included, and no memory traffic beyond the generator's.
  ///
  /// `generate_noisy_labels` uses it to find where a later class's permutation starts in the
  /// stream, so that a second thread can draw it while the first draws the earlier classes.
  ///
  /// Step `i` (from `count - 1` down to 1) draws until a masked word is at most `i`. Words are
  /// judged sixteen at a time: with `b` the step before the group, word `j` of the group is
  /// accepted whatever happened to the words before it when its candidate is at most `b - j`
  /// (at most `j` earlier words were accepted), and rejected when it is above `b`. Only when
  /// some candidate falls in between, which is rare unless `b` is small, is the group judged one
  /// word at a time.
  ///
  /// - Complexity: O(count), about 1.4 32-bit draws per step.
  /// - Precondition: `count <= 2**32` (larger counts draw 64-bit words, which
  ///   `generate_noisy_labels` never needs).
  @usableFromInline
  mutating func skipPermutation(_ count: Int) {
    guard count > 1 else { return }
    precondition(UInt64(count) <= 1 << 32, "skipPermutation handles 32-bit draws only")
    withWords { (words: inout MTWords) -> Void in
      let block = UnsafeRawPointer(words.tempered)
      var bound = UInt32(truncatingIfNeeded: count - 1)
      while bound > 0 {
        if words.pos == words.ready { words.fillBlock() }
        var w = words.pos
        let end = words.ready
        let mask = UInt32.max >> UInt32(bound.leadingZeroBitCount)
        let floor = (mask >> 1) &+ 1
        var b = bound
        // groups of 64 words, then of 16 near the end of the block, then single words
        while b >= floor &+ 64 && b < 1 << 31 && w &+ 64 <= end {
          b = Self.skipGroup(block, at: w, mask: mask, bound: b, vectors: 4)
          w &+= 64
        }
        while b >= floor &+ 16 && b < 1 << 31 && w &+ 16 <= end {
          b = Self.skipGroup(block, at: w, mask: mask, bound: b, vectors: 1)
          w &+= 16
        }
        while b >= floor && w < end {
          b = Self.skipStep(words.tempered[w] & mask, bound: b)
          w &+= 1
        }
        words.pos = w
        bound = b
      }
    }
  }

  /// ``skipPermutation(_:)`` over the `16 * vectors` words at `block[word...]`, starting at step
  /// `b`: the step after them. The caller guarantees that the mask holds for the whole group
  /// (`b >= floor + 16 * vectors`) and that `b < 2**31`, so that the top bit of a difference
  /// tells which side of a limit a candidate is on.
  @inline(__always)
  private static func skipGroup(
    _ block: UnsafeRawPointer, at word: Int, mask: UInt32, bound b: UInt32, vectors: Int
  ) -> UInt32 {
    let offsets = SIMD16<UInt32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
    let step = SIMD16(repeating: b)
    // per lane, the number of candidates above b - j (rejected, or unsure when not above b),
    // plus 65536 for each unsure one
    var tallies = SIMD16<UInt32>(repeating: 0)
    for v in 0..<vectors {
      let candidates =
        block.loadUnaligned(
          fromByteOffset: (word &+ 16 &* v) &* MemoryLayout<UInt32>.stride,
          as: SIMD16<UInt32>.self) & mask
      let limits = step &- (offsets &+ UInt32(truncatingIfNeeded: 16 &* v))
      let aboveLimit = (limits &- candidates) &>> 31
      let aboveBound = (step &- candidates) &>> 31
      tallies &+= aboveLimit &+ ((aboveLimit & (aboveBound ^ 1)) &<< 16)
    }
    let tally = tallies.wrappedSum()
    let count = UInt32(truncatingIfNeeded: 16 &* vectors)
    if tally >> 16 == 0 { return b &- (count &- tally) }
    var current = b
    for j in 0..<(16 &* vectors) {
      let candidate =
        block.load(fromByteOffset: (word &+ j) &* MemoryLayout<UInt32>.stride, as: UInt32.self)
        & mask
      current = skipStep(candidate, bound: current)
    }
    return current
  }

  /// One draw of ``skipPermutation(_:)``: the step after `b` once `candidate` is drawn, without a
  /// branch (about half the candidates are rejected, at random, so a branch would mispredict).
  @inline(__always)
  private static func skipStep(_ candidate: UInt32, bound b: UInt32) -> UInt32 {
    // 1 when candidate <= b, else 0
    b &- UInt32(truncatingIfNeeded: ((Int64(b) &- Int64(candidate)) >> 63) &+ 1)
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
  /// - Complexity: O(count) time, about 1.4 32-bit draws per step.
  @inlinable
  mutating func permutationPrefix(
    _ buffer: UnsafeMutableBufferPointer<UInt32>, prefix: Int, cancellation: Cancellation = .none
  ) throws(NoiseGenerationError) {
    guard let base = buffer.baseAddress else { return }
    var kept = KeptIndices(base)
    try permutationPrefix(buffer, prefix: prefix, into: &kept, cancellation: cancellation)
  }

  /// numpy's `permutation(buffer.count)`, with what becomes of its first `prefix` entries left to
  /// `output`: ``KeptIndices`` leaves them in `buffer[0..<prefix]`, ``PrefixMarks`` records the
  /// label of each one's position instead. The generator advances exactly as numpy's does for
  /// the whole permutation.
  ///
  /// This is the hot loop of `generate_noisy_labels`, which only keeps the first `len(noise)`
  /// entries of each class's permutation. In numpy's shuffle, step `i` (from `count - 1` down)
  /// swaps positions `i` and `j <= i`, after which position `i` is never read again. So while
  /// `i >= prefix`, where position `i` is not kept, the swap reduces to moving the value at `i`
  /// down to `j`: one sequential read and one random write, no random read. Below `prefix` the
  /// steps are full swaps, and the value that lands at `i` is final there; it goes to `output`.
  ///
  /// Draws come from blocks of pre-tempered words in a loop without data-dependent branches:
  /// a word gives the candidate `word & mask`; when it is above the bound (numpy rejects it and
  /// draws again) the step acts on position `i` itself, which changes nothing, and `i` does not
  /// advance (`output` then sees the value at `i` once more before the one that stays). The mask
  /// only changes when `i` falls below a power of two, and `output` may ask for runs of
  /// positions it treats alike, so each inner loop runs where both are constant. Without
  /// branches, the memory accesses of many steps overlap.
  ///
  /// `cancellation` is consulted every 2048 blocks (about 1.3 million draws), so the small
  /// permutations of `generate_noise_matrix_from_trace` never read the clock here; their
  /// callers check between iterations.
  ///
  /// - Complexity: O(count) time, about 1.4 32-bit draws per step.
  @inlinable
  mutating func permutationPrefix<Output: PermutationPrefixOutput>(
    _ buffer: UnsafeMutableBufferPointer<UInt32>, prefix: Int, into output: inout Output,
    cancellation: Cancellation = .none
  ) throws(NoiseGenerationError) {
    let n = buffer.count
    guard n > 0, let base = buffer.baseAddress else { return }
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
          let start = Swift.max(floor, output.enterRun(containing: b))
          let steps = Swift.min(available, Int(b - start) + 1)
          for w in word..<(word + steps) {
            let candidate = block[w] & mask
            let accept = UInt32(truncatingIfNeeded: ((Int64(b) &- Int64(candidate)) >> 63) &+ 1)
            let target = Int(candidate ^ ((candidate ^ b) & (accept &- 1)))
            let position = Int(b)
            let displaced = base[target]
            base[target] = base[position]
            output.settle(displaced, at: position)
            b &-= accept
          }
          words.pos = word + steps
        }
        bound = b
      }
    }
    if stopped { throw .cancelled }
    _ = output.enterRun(containing: 0)
    output.settle(base[0], at: 0)
  }
}

/// What ``RandomState/permutationPrefix(_:prefix:into:cancellation:)`` does with each kept
/// position's final value.
@usableFromInline
protocol PermutationPrefixOutput {
  /// Called before the values of a run of positions are settled, with the highest of them: the
  /// lowest position of the run, whose positions ``settle(_:at:)`` treats alike.
  mutating func enterRun(containing position: UInt32) -> UInt32
  /// `value` is the one at `position` once the step at `position` is accepted; a rejected step
  /// settles the value then at `position`, which the same position settles again later.
  func settle(_ value: UInt32, at position: Int)
}

/// Keeps the permutation's first entries in the index buffer.
///
/// It holds the buffer's address rather than being an empty type: an `inout` argument of an
/// empty type has no storage of its own, so two threads permuting at once would both "modify"
/// the one shared placeholder address, which ThreadSanitizer reports as a race.
@usableFromInline
struct KeptIndices: PermutationPrefixOutput {
  @usableFromInline let indices: UnsafeMutablePointer<UInt32>
  @inlinable init(_ indices: UnsafeMutablePointer<UInt32>) { self.indices = indices }
  @inlinable func enterRun(containing position: UInt32) -> UInt32 { 0 }
  @inline(__always) @inlinable
  func settle(_ value: UInt32, at position: Int) {
    indices[position] = value
  }
}

/// Marks each kept entry of a permutation of ranks with the label of its position:
/// `marks[value] = label`, where the positions are split into consecutive runs, each with one
/// label. As a ``PermutationPrefixOutput`` it marks values as they settle (a value that a
/// rejected step settles early stays within the kept positions, and its mark is overwritten
/// when it settles for good); ``mark(kept:)`` marks kept indices after the fact instead.
@usableFromInline
struct PrefixMarks<Mark: FixedWidthInteger>: PermutationPrefixOutput {
  @usableFromInline let marks: UnsafeMutablePointer<Mark>
  /// The first position of each run, ascending, starting with 0.
  @usableFromInline let starts: [UInt32]
  @usableFromInline let labels: [Mark]
  /// The positions in all runs.
  @usableFromInline let count: Int
  @usableFromInline var run: Int
  @usableFromInline var label: Mark

  /// Runs of `lengths[r]` positions labelled `labels[r]`, from position 0 on (empty runs are
  /// allowed).
  @inlinable
  init(marks: UnsafeMutablePointer<Mark>, lengths: [Int], labels: [Mark]) {
    var starts: [UInt32] = []
    var kept: [Mark] = []
    var position = 0
    for (length, label) in zip(lengths, labels) where length > 0 {
      starts.append(UInt32(truncatingIfNeeded: position))
      kept.append(label)
      position += length
    }
    self.marks = marks
    self.starts = starts
    self.labels = kept
    count = position
    run = starts.count - 1
    label = kept.last ?? 0
  }

  @inlinable
  mutating func enterRun(containing position: UInt32) -> UInt32 {
    while run > 0 && starts[run] > position { run -= 1 }
    label = labels[run]
    return starts[run]
  }

  @inline(__always) @inlinable
  func settle(_ value: UInt32, at position: Int) {
    marks[Int(value)] = label
  }

  /// Marks `kept[position]` with its position's label for every position of the runs: the
  /// first entries of a permutation that ``KeptIndices`` kept.
  @inlinable
  func mark(kept: UnsafePointer<UInt32>) {
    for r in starts.indices {
      let end = r + 1 < starts.count ? Int(starts[r + 1]) : count
      for position in Int(starts[r])..<end { marks[Int(kept[position])] = labels[r] }
    }
  }
}
