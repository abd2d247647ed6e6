/// What ``generateNoisyLabels(trueLabels:noiseMatrix:randomState:cancellation:threads:)``
/// returns.
public struct NoisyLabels<Label: FixedWidthInteger & Sendable>: Equatable, Sendable {
  /// cleanlab's return value, in the input's integer type.
  public var labels: [Label]
  /// How many labels differ from the true labels.
  public var numFlipped: Int

  @inlinable init(labels: [Label], numFlipped: Int) {
    self.labels = labels
    self.numFlipped = numFlipped
  }
}

/// cleanlab's `generate_noisy_labels(true_labels, noise_matrix)`, run on `randomState` in place of
/// numpy's global generator. With `RandomState(seed: s)` the result equals
/// `np.random.seed(s); generate_noisy_labels(true_labels, noise_matrix)`.
///
/// cleanlab's contract: with `py[k]` the fraction of examples of class `k`, the number of
/// examples of true class `k` to relabel as `i` is `int(noise_matrix[i][k] * py[k] * N)`
/// (truncated, diagonal excluded). For each class `k` in order, the noise list is each `i` in
/// ascending order repeated that many times; if the class has at least as many examples as the
/// list is long (and neither is empty), `choice(positions of k, len(noise), replace=False)`
/// picks the examples, which are the first `len(noise)` entries of `permutation(count of k)`
/// applied to the ascending positions. A class with fewer examples than flips is skipped without
/// drawing anything.
///
/// Implementation: one pass counts the classes and finds any label out of range; per class,
/// the permutation is drawn into a reused 32-bit index buffer, and a table holding every
/// example's final label by class and rank (one byte per example for K <= 256, two up to
/// 65,536, four above) gets the flipped ranks' new labels; a final pass walks the labels,
/// keeping a running rank per class, and copies each one's final label. No per-element
/// allocation.
///
/// `threads: 2` lets a call with at least ``noisyLabelsParallelThreshold`` labels use a second
/// thread: each pass over the labels is split in two halves, and the flipping classes in two
/// runs (the second thread skips through the first run's draws to find where its own start);
/// see ``NoisyLabelPlan/drawMarks(randomState:cancellation:parallel:output:)``. The result, and
/// the generator's state afterwards, are the same as with one thread; only the time differs.
/// Values above 2 count as 2, below 1 as 1. The default is one thread, so that a server running
/// one call per core does not oversubscribe its cores.
///
/// Departures from cleanlab:
/// - A class in `0..<K` with no examples counts as 0 and gets no flips. cleanlab computes `py`
///   over the classes present, so its arrays no longer line up and numpy raises a broadcasting
///   error (unless exactly one class is present, where the results agree).
/// - An empty `true_labels` returns an empty result; cleanlab raises.
/// - A label outside `0..<K`, `K == 0`, or a NaN or infinite matrix entry throws.
/// - Counts that do not fit in int64 count as no flips, as numpy's cast yields INT64_MIN on
///   x86-64 and cleanlab's `range()` of it is empty; negative entries likewise give no flips.
///
/// The returned array's memory is advised as transparent huge pages before it is written: a
/// fresh array of millions of labels otherwise costs a page fault per 4 KiB (writing 10 million
/// new Int32 labels took 19 ms with 4 KiB pages and 6 ms with huge pages).
///
/// - Complexity: O(N + K²) time (with `threads: 2`, the second thread also walks the draws of
///   the first thread's classes, about 0.45 of their cost); N one-, two- or four-byte marks plus
///   the largest class's 32-bit indices of extra memory (per thread).
/// - Throws: ``NoiseGenerationError``.
@inlinable
public func generateNoisyLabels<Label: FixedWidthInteger & Sendable>(
  trueLabels: [Label],
  noiseMatrix: NoiseMatrix,
  randomState: inout RandomState,
  cancellation: Cancellation = .none,
  threads: Int = 1
) throws(NoiseGenerationError) -> NoisyLabels<Label> {
  let n = trueLabels.count
  var flipped = 0
  let labels = try [Label](unsafeUninitializedCapacity: n) {
    (output, initialized) throws(NoiseGenerationError) in
    adviseHugePages(UnsafeMutableRawBufferPointer(output))
    try trueLabels.withUnsafeBufferPointer { (input) throws(NoiseGenerationError) in
      flipped = try generateNoisyLabels(
        trueLabels: input, into: output, noiseMatrix: noiseMatrix, randomState: &randomState,
        cancellation: cancellation, threads: threads)
    }
    initialized = n
  }
  return NoisyLabels(labels: labels, numFlipped: flipped)
}

/// ``generateNoisyLabels(trueLabels:noiseMatrix:randomState:cancellation:threads:)`` on
/// caller-owned memory: reads `trueLabels`, writes the noisy labels into `output` (same count,
/// not overlapping), and returns how many differ.
///
/// Every element of `output` is written when the call returns normally; on a throw its contents
/// are unspecified. For millions of labels, memory backed by huge pages makes the output's page
/// faults cheap (the array-returning form advises its array so); the library's own scratch
/// memory already is.
@inlinable
public func generateNoisyLabels<Label: FixedWidthInteger>(
  trueLabels: UnsafeBufferPointer<Label>,
  into output: UnsafeMutableBufferPointer<Label>,
  noiseMatrix: NoiseMatrix,
  randomState: inout RandomState,
  cancellation: Cancellation = .none,
  threads: Int = 1
) throws(NoiseGenerationError) -> Int {
  let K = noiseMatrix.K
  let n = trueLabels.count
  guard output.count == n else {
    throw .shapeMismatch(argument: "output", expected: "(\(n),)", actual: "(\(output.count),)")
  }
  guard K > 0 else {
    throw .invalidArgument(argument: "noise_matrix", reason: "must have at least one class")
  }
  try checkFinite(noiseMatrix)
  guard n > 0, let input = trueLabels.baseAddress, let out = output.baseAddress else { return 0 }

  let parallel = threads > 1 && n >= noisyLabelsParallelThreshold
  let parts = NoisyLabelParts(labels: n, parts: parallel ? 2 : 1)
  guard let partCounts = countClasses(input, parts: parts, classes: K) else {
    try checkLabels(trueLabels, classes: K)
    throw .invalidArgument(argument: "true_labels", reason: "a label is outside 0...\(K - 1)")
  }
  let plan = NoisyLabelPlan(partCounts: partCounts, noiseMatrix: noiseMatrix)
  guard plan.flipped > 0 else {
    out.update(from: input, count: n)
    return 0
  }
  // the narrowest marks that hold every label
  if K <= 256 {
    try drawAndRelabel(
      UInt8.self, input, out, plan: plan, parts: parts, randomState: &randomState,
      cancellation: cancellation, parallel: parallel)
  } else if K <= 1 << 16 {
    try drawAndRelabel(
      UInt16.self, input, out, plan: plan, parts: parts, randomState: &randomState,
      cancellation: cancellation, parallel: parallel)
  } else {
    try drawAndRelabel(
      UInt32.self, input, out, plan: plan, parts: parts, randomState: &randomState,
      cancellation: cancellation, parallel: parallel)
  }
  return plan.flipped
}

/// Draws the plan's marks as `Mark`s, then relabels with them.
@inlinable
func drawAndRelabel<Label: FixedWidthInteger, Mark: FixedWidthInteger>(
  _: Mark.Type, _ input: UnsafePointer<Label>, _ out: UnsafeMutablePointer<Label>,
  plan: NoisyLabelPlan, parts: NoisyLabelParts, randomState: inout RandomState,
  cancellation: Cancellation, parallel: Bool
) throws(NoiseGenerationError) {
  let marks: ScratchBuffer<Mark> = try plan.drawMarks(
    randomState: &randomState, cancellation: cancellation, parallel: parallel,
    output: UnsafeMutableRawBufferPointer(
      start: out, count: plan.offsets[plan.K] * MemoryLayout<Label>.stride))
  relabel(input, out, marks: marks, plan: plan, parts: parts)
}

/// The fewest labels for which `generate_noisy_labels` with `threads: 2` uses the second
/// thread: below it, handing work to that thread and waiting for it (three times per call, tens
/// of microseconds when it has to be woken) costs about as much as it saves.
public let noisyLabelsParallelThreshold = 1 << 18

/// Throws for the first label outside `0..<K`: the error path, once
/// ``countClasses(_:parts:classes:)`` has found that some label is.
@inlinable
func checkLabels<Label: FixedWidthInteger>(_ labels: UnsafeBufferPointer<Label>, classes K: Int)
  throws(NoiseGenerationError)
{
  for (i, label) in labels.enumerated()
  where label < 0 || UInt64(truncatingIfNeeded: label) >= UInt64(K) {
    throw .invalidArgument(
      argument: "true_labels", reason: "label \(label) at index \(i) is outside 0...\(K - 1)")
  }
}

/// The labels split into one contiguous part per thread (1 or 2). Part `p` is
/// `p * length ..< (p + 1) * length`, except that the last part ends at the end of the labels.
///
/// Each part is walked front to back as one stream. Splitting a thread's part further into lanes
/// walked side by side, each with its own cursors, made the relabelling pass twice as slow on
/// uniformly random labels: on a C transcription of the loop over 10 million Int32 labels with
/// K = 10, 12 ms as one stream, 25 ms as two lanes, 28 ms as four; in this library's profile
/// the pass's share of a one-thread call halved when its four lanes became one. Runs of equal
/// labels, which chain each label's cursor to the previous one's, cost no more than random
/// labels as one stream (7 ms sorted).
@usableFromInline
struct NoisyLabelParts {
  /// 1 or 2.
  @usableFromInline let count: Int
  @usableFromInline let length: Int
  @usableFromInline let total: Int

  @inlinable init(labels: Int, parts: Int) {
    count = parts
    length = labels / parts
    total = labels
  }

  /// The labels of part `p`.
  @inlinable func range(_ p: Int) -> Range<Int> {
    (p * length)..<(p == count - 1 ? total : (p + 1) * length)
  }

  /// Runs `body(p)` for each part, the second on a thread of its own.
  @inlinable func forEachPart(_ body: (Int) -> Void) {
    if count == 1 {
      body(0)
    } else {
      concurrently {
        body(0)
      } _: {
        body(1)
      }
    }
  }
}

/// Pass 1: the number of labels of each class in each part, `counts[part * K + class]`, or nil
/// when a label is outside `0..<K`.
@inlinable
func countClasses<Label: FixedWidthInteger>(
  _ input: UnsafePointer<Label>, parts: NoisyLabelParts, classes K: Int
) -> [Int]? {
  // one array per part, so that two threads' counters never share a cache line
  var first: [Int]? = nil
  var second: [Int]? = nil
  parts.forEachPart { p in
    let counts = countClasses(input, range: parts.range(p), classes: K)
    if p == 0 { first = counts } else { second = counts }
  }
  guard let first else { return nil }
  if parts.count == 1 { return first }
  guard let second else { return nil }
  return first + second
}

/// Pass 1 over `range`: its count of each class, or nil when a label is outside `0..<K`. Each
/// label, read as an unsigned 64-bit value (negative labels sign-extend to huge ones) and capped
/// at `K`, indexes `K + 1` counters, the last counting the labels out of range; there are four
/// sets of them, for labels `i`, `i + 1`, `i + 2` and `i + 3`, so that equal neighbours do not
/// wait on one counter. (Checking the range in a vectorized pass of its own reads the labels
/// once more: 2.4–3.0 ms for 10 million Int32 labels on this machine.)
@inlinable
func countClasses<Label: FixedWidthInteger>(
  _ labels: UnsafePointer<Label>, range: Range<Int>, classes K: Int
) -> [Int]? {
  let width = K + 1
  let cap = UInt64(K)
  @inline(__always) func slot(_ label: Label) -> Int {
    Int(truncatingIfNeeded: Swift.min(UInt64(truncatingIfNeeded: label), cap))
  }
  var sets = [Int](repeating: 0, count: 4 * width)
  sets.withUnsafeMutableBufferPointer { buffer in
    let c0 = buffer.baseAddress!
    let (c1, c2, c3) = (c0 + width, c0 + 2 * width, c0 + 3 * width)
    var i = range.lowerBound
    while i &+ 4 <= range.upperBound {
      c0[slot(labels[i])] &+= 1
      c1[slot(labels[i &+ 1])] &+= 1
      c2[slot(labels[i &+ 2])] &+= 1
      c3[slot(labels[i &+ 3])] &+= 1
      i &+= 4
    }
    while i < range.upperBound {
      c0[slot(labels[i])] &+= 1
      i &+= 1
    }
  }
  let counts = (0...K).map {
    sets[$0] &+ sets[width + $0] &+ sets[2 * width + $0] &+ sets[3 * width + $0]
  }
  return counts[K] == 0 ? Array(counts[..<K]) : nil
}

/// Pass 2: walks each part (the parts on threads of their own), keeping each class's running
/// rank as a pointer into its marks, and writes each label's mark, its final label.
@inlinable
func relabel<Label: FixedWidthInteger, Mark: FixedWidthInteger>(
  _ input: UnsafePointer<Label>, _ out: UnsafeMutablePointer<Label>, marks: ScratchBuffer<Mark>,
  plan: NoisyLabelPlan, parts: NoisyLabelParts
) {
  let K = plan.K
  parts.forEachPart { p in
    // where the part's first label of each class finds its mark: the class's offset plus the
    // class's labels in the parts before it; in an array of the part's own, so that the threads
    // share no cache line
    var cursors = (0..<K).map { k in
      var start = plan.offsets[k]
      for earlier in 0..<p { start += plan.partCounts[earlier * K + k] }
      return marks.base + start
    }
    cursors.withUnsafeMutableBufferPointer { buffer in
      let cursor = buffer.baseAddress!
      for i in parts.range(p) {
        let k = Int(truncatingIfNeeded: input[i])
        out[i] = Label(truncatingIfNeeded: cursor[k].pointee)
        cursor[k] += 1
      }
    }
  }
  withExtendedLifetime(marks) {}
}

/// The non-generic middle of `generate_noisy_labels`: which class flips how many labels to what,
/// and the draws that pick them.
@usableFromInline
struct NoisyLabelPlan {
  @usableFromInline let K: Int
  /// Examples per class.
  @usableFromInline let counts: [Int]
  /// Examples per class in each part of ``NoisyLabelParts``, `partCounts[part * K + class]`.
  @usableFromInline let partCounts: [Int]
  /// `count_joint[i][k]` for `i != k`, floored at 0, row-major.
  @usableFromInline let jointCounts: [Int]
  /// Flips per true class; 0 for classes cleanlab skips.
  @usableFromInline let flipsPerClass: [Int]
  /// Where each class's ranks start in the marks array.
  @usableFromInline let offsets: [Int]
  @usableFromInline let flipped: Int

  /// `count_joint = (noise_matrix * py * N).astype(int)` with the diagonal zeroed, and the
  /// per-class skip rule: a class flips only when it has examples, wants flips, and has at least
  /// as many examples as flips.
  @usableFromInline
  init(partCounts: [Int], noiseMatrix: NoiseMatrix) {
    let K = noiseMatrix.K
    var counts = [Int](repeating: 0, count: K)
    for part in 0..<(partCounts.count / K) {
      for k in 0..<K { counts[k] &+= partCounts[part * K + k] }
    }
    let total = Double(counts.reduce(0, +))
    var joint = [Int](repeating: 0, count: K * K)
    var flips = [Int](repeating: 0, count: K)
    for k in 0..<K {
      let prior = Double(counts[k]) / total
      var wanted = 0
      var overflow = false
      for i in 0..<K where i != k {
        let c = Swift.max(numpyIntCast((noiseMatrix[i, k] * prior) * total), 0)
        joint[i * K + k] = c
        let (sum, didOverflow) = wanted.addingReportingOverflow(c)
        wanted = sum
        overflow = overflow || didOverflow
      }
      let available = counts[k]
      flips[k] = (!overflow && wanted > 0 && available > 0 && available >= wanted) ? wanted : 0
    }
    var offsets = [Int](repeating: 0, count: K + 1)
    for k in 0..<K { offsets[k + 1] = offsets[k] + counts[k] }
    self.K = K
    self.counts = counts
    self.partCounts = partCounts
    self.jointCounts = joint
    self.flipsPerClass = flips
    self.offsets = offsets
    self.flipped = flips.reduce(0, +)
  }

  /// Every example's final label, indexed by class offset plus rank within the class: the class
  /// itself, except for the first `flips` entries of numpy's permutation of the class's ranks,
  /// which get the noise labels in the order of cleanlab's noise list (each noisy label `i`
  /// ascending, repeated `count_joint[i][k]` times). Flipping classes are drawn in order.
  ///
  /// With `parallel`, the classes are split in two runs at ``parallelSplit()``: this thread
  /// draws the first run; a second thread starts from a copy of the generator, advances it past
  /// the first run's permutations with ``RandomState/skipPermutation(_:)`` (the same draws
  /// without the shuffling), then draws the second run, and its generator is the one the call
  /// ends with. The draws, and so the marks, are the same as on one thread. Whichever thread
  /// finishes first then faults in pages of `output`, the memory the relabelling pass writes
  /// next, while the other still draws (``PageFaulter``): at 10 million labels the kernel's
  /// zeroing of the fresh 40 MB output otherwise falls inside that pass.
  @inlinable
  func drawMarks<Mark: FixedWidthInteger>(
    randomState: inout RandomState, cancellation: Cancellation, parallel: Bool,
    output: UnsafeMutableRawBufferPointer
  )
    throws(NoiseGenerationError) -> ScratchBuffer<Mark>
  {
    let n = offsets[K]
    guard let marks = ScratchBuffer<Mark>(count: n, zeroed: false) else {
      throw .invalidArgument(argument: "true_labels", reason: "cannot allocate \(n) marks")
    }
    let split = parallel ? parallelSplit() : nil
    guard let split else {
      try drawMarks(0..<K, into: marks, randomState: &randomState, cancellation: cancellation)
      return marks
    }
    var second = randomState
    // before the threads start: a shared copy would be copied on its first draw, reading words
    // the other thread is changing
    second.makeUnique()
    var firstError: NoiseGenerationError? = nil
    var secondError: NoiseGenerationError? = nil
    let faults = PageFaulter(output, workers: 2)
    concurrently {
      do throws(NoiseGenerationError) {
        try drawMarks(
          0..<split, into: marks, randomState: &randomState, cancellation: cancellation)
      } catch { firstError = error }
      faults.faultWhileOthersWork()
    } _: {
      do throws(NoiseGenerationError) {
        for k in 0..<split where flipsPerClass[k] > 0 {
          try cancellation.check()
          second.skipPermutation(counts[k])
        }
        try drawMarks(split..<K, into: marks, randomState: &second, cancellation: cancellation)
      } catch { secondError = error }
      faults.faultWhileOthersWork()
    }
    if let error = firstError ?? secondError { throw error }
    randomState = second
    return marks
  }

  /// The cost of skipping through a permutation relative to drawing it, as measured for classes
  /// of 10^5 and 10^6 labels (0.74 and 0.66 ns per step against 1.5 and 1.6); it decides where
  /// ``parallelSplit()`` cuts.
  @usableFromInline static let skipCost = 0.45

  /// Where to split the classes between two threads: the first takes the classes below the
  /// result, the second skips through their draws and takes the rest. The cut minimizes the
  /// longer thread's estimated work (draws and marks in proportion to a class's size, skips at
  /// ``skipCost`` of that). Nil when fewer than two classes flip, or when no cut leaves a
  /// flipping class on each side.
  @usableFromInline
  func parallelSplit() -> Int? {
    let sizes = (0..<K).map { flipsPerClass[$0] > 0 ? Double(counts[$0]) : 0 }
    let total = sizes.reduce(0, +)
    var best: (split: Int, cost: Double)? = nil
    var before = 0.0
    for split in 1..<Swift.max(K, 1) {
      before += sizes[split - 1]
      let after = total - before
      guard before > 0, after > 0 else { continue }
      let cost = Swift.max(before, Self.skipCost * before + after)
      if best == nil || cost < best!.cost { best = (split, cost) }
    }
    return best?.split
  }

  /// Classes of at most this many examples mark their flipped ranks while their permutation is
  /// drawn (``PrefixMarks``); larger ones keep the permutation's first entries and mark them in
  /// a second pass. Marking inside the loop saves that pass, 6–8% of the call for classes of
  /// 10^5 examples, but adds a random write per step to the loop's random accesses, which costs
  /// more once the class's indices and marks outgrow a core's L2 cache (1 MiB here): 5% slower
  /// for classes of 10^6, even for classes of 2–3 × 10^5.
  @usableFromInline static let fusedMarkingLimit = 1 << 18

  /// Fills the marks of `classes` with their own labels, then draws the flipping ones'
  /// permutations in order and marks their flipped ranks: the ranks at the first positions of
  /// each permutation get the noise labels in the order of cleanlab's noise list.
  @inlinable
  func drawMarks<Mark: FixedWidthInteger>(
    _ classes: Range<Int>, into marks: ScratchBuffer<Mark>, randomState: inout RandomState,
    cancellation: Cancellation
  ) throws(NoiseGenerationError) {
    for k in classes {
      (marks.base + offsets[k]).update(repeating: Mark(truncatingIfNeeded: k), count: counts[k])
    }
    let largest = classes.filter { flipsPerClass[$0] > 0 }.map { counts[$0] }.max() ?? 0
    guard let scratch = ScratchBuffer<UInt32>(count: largest, zeroed: false) else {
      throw .invalidArgument(argument: "true_labels", reason: "cannot allocate \(largest) indices")
    }
    for k in classes where flipsPerClass[k] > 0 {
      try cancellation.check()
      let ranks = UnsafeMutableBufferPointer(start: scratch.base, count: counts[k])
      let noise = (0..<K).filter { $0 != k }
      var output = PrefixMarks(
        marks: marks.base + offsets[k], lengths: noise.map { jointCounts[$0 * K + k] },
        labels: noise.map { Mark(truncatingIfNeeded: $0) })
      if counts[k] <= Self.fusedMarkingLimit {
        try randomState.permutationPrefix(
          ranks, prefix: flipsPerClass[k], into: &output, cancellation: cancellation)
      } else {
        try randomState.permutationPrefix(
          ranks, prefix: flipsPerClass[k], cancellation: cancellation)
        output.mark(kept: scratch.base)
      }
    }
  }
}

/// numpy's `astype(int)` of a float64 on x86-64: truncation toward zero, and INT64_MIN for NaN
/// and values outside the int64 range (what `cvttsd2si` returns).
@inline(__always) @usableFromInline
func numpyIntCast(_ value: Double) -> Int {
  guard value > -9_223_372_036_854_775_808.0, value < 9_223_372_036_854_775_808.0 else {
    return Int.min
  }
  return Int(value)
}
