/// What ``generateNoisyLabels(trueLabels:noiseMatrix:randomState:cancellation:)`` returns.
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
/// Implementation: one pass counts classes; per class, the permutation is drawn into a reused
/// 32-bit index buffer and the chosen ranks are marked with their new label in a 16-bit table;
/// a final pass walks the labels in order, keeping a running rank per class, and writes the
/// output. No per-element allocation.
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
/// - Complexity: O(N + K²) time; N 16-bit marks plus the largest class's 32-bit indices of
///   extra memory.
/// - Throws: ``NoiseGenerationError``.
@inlinable
public func generateNoisyLabels<Label: FixedWidthInteger & Sendable>(
  trueLabels: [Label],
  noiseMatrix: NoiseMatrix,
  randomState: inout RandomState,
  cancellation: Cancellation = .none
) throws(NoiseGenerationError) -> NoisyLabels<Label> {
  let n = trueLabels.count
  var flipped = 0
  let labels = try [Label](unsafeUninitializedCapacity: n) {
    (output, initialized) throws(NoiseGenerationError) in
    try trueLabels.withUnsafeBufferPointer { (input) throws(NoiseGenerationError) in
      flipped = try generateNoisyLabels(
        trueLabels: input, into: output, noiseMatrix: noiseMatrix, randomState: &randomState,
        cancellation: cancellation)
    }
    initialized = n
  }
  return NoisyLabels(labels: labels, numFlipped: flipped)
}

/// ``generateNoisyLabels(trueLabels:noiseMatrix:randomState:cancellation:)`` on caller-owned
/// memory: reads `trueLabels`, writes the noisy labels into `output` (same count, not
/// overlapping), and returns how many differ.
///
/// Every element of `output` is written when the call returns normally; on a throw its contents
/// are unspecified. For millions of labels, memory backed by huge pages makes the output's page
/// faults cheap; the library's own scratch memory already is.
@inlinable
public func generateNoisyLabels<Label: FixedWidthInteger>(
  trueLabels: UnsafeBufferPointer<Label>,
  into output: UnsafeMutableBufferPointer<Label>,
  noiseMatrix: NoiseMatrix,
  randomState: inout RandomState,
  cancellation: Cancellation = .none
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

  // Pass 1: validate and count the classes. Four interleaved histograms keep runs of equal
  // labels from serializing on one counter.
  var counts = [Int](repeating: 0, count: 4 * K)
  let limit = UInt64(K)
  try counts.withUnsafeMutableBufferPointer { (counts) throws(NoiseGenerationError) in
    let c = counts.baseAddress!
    var i = 0
    while i + 4 <= n {
      let a = input[i]
      let b = input[i + 1]
      let d = input[i + 2]
      let e = input[i + 3]
      let outside =
        (a < 0) || (b < 0) || (d < 0) || (e < 0)
        || UInt64(truncatingIfNeeded: a) >= limit || UInt64(truncatingIfNeeded: b) >= limit
        || UInt64(truncatingIfNeeded: d) >= limit || UInt64(truncatingIfNeeded: e) >= limit
      if outside { break }  // the loop below reports the first offending label
      c[Int(truncatingIfNeeded: a)] &+= 1
      c[K + Int(truncatingIfNeeded: b)] &+= 1
      c[2 * K + Int(truncatingIfNeeded: d)] &+= 1
      c[3 * K + Int(truncatingIfNeeded: e)] &+= 1
      i += 4
    }
    while i < n {
      let label = input[i]
      guard label >= 0, UInt64(truncatingIfNeeded: label) < limit else {
        throw .invalidArgument(
          argument: "true_labels",
          reason: "label \(label) at index \(i) is outside 0...\(K - 1)")
      }
      c[Int(truncatingIfNeeded: label)] &+= 1
      i += 1
    }
    for k in 0..<K { c[k] = c[k] &+ c[K + k] &+ c[2 * K + k] &+ c[3 * K + k] }
  }
  counts.removeLast(3 * K)

  let plan = NoisyLabelPlan(counts: counts, noiseMatrix: noiseMatrix)
  guard plan.flipped > 0 else {
    out.update(from: input, count: n)
    return 0
  }
  let marks = try plan.drawMarks(randomState: &randomState, cancellation: cancellation)

  // Pass 2: walk the labels in order, keeping each class's running rank as a pointer into its
  // marks; a non-zero mark is the new label plus one.
  var cursors = plan.offsets.map { marks.base + $0 }
  cursors.withUnsafeMutableBufferPointer { cursors in
    let c = cursors.baseAddress!
    for i in 0..<n {
      let label = input[i]
      let k = Int(truncatingIfNeeded: label)
      let mark = c[k].pointee
      c[k] += 1
      out[i] = mark == 0 ? label : Label(truncatingIfNeeded: mark &- 1)
    }
  }
  withExtendedLifetime(marks) {}
  return plan.flipped
}

/// The non-generic middle of `generate_noisy_labels`: which class flips how many labels to what,
/// and the draws that pick them.
@usableFromInline
struct NoisyLabelPlan {
  let K: Int
  let counts: [Int]
  /// `count_joint[i][k]` for `i != k`, floored at 0, row-major.
  let jointCounts: [Int]
  /// Flips per true class; 0 for classes cleanlab skips.
  let flipsPerClass: [Int]
  /// Where each class's ranks start in the marks array.
  @usableFromInline let offsets: [Int]
  @usableFromInline let flipped: Int

  /// `count_joint = (noise_matrix * py * N).astype(int)` with the diagonal zeroed, and the
  /// per-class skip rule: a class flips only when it has examples, wants flips, and has at least
  /// as many examples as flips.
  @usableFromInline
  init(counts: [Int], noiseMatrix: NoiseMatrix) {
    let K = noiseMatrix.K
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
    self.jointCounts = joint
    self.flipsPerClass = flips
    self.offsets = offsets
    self.flipped = flips.reduce(0, +)
  }

  /// For each flipping class in order: numpy's permutation of the class's ranks, whose first
  /// `flips` entries get the noise labels in the order of cleanlab's noise list (each noisy label
  /// `i` ascending, repeated `count_joint[i][k]` times). Returns one mark per example, indexed by
  /// class offset plus rank: 0 for unchanged, new label + 1 otherwise.
  @usableFromInline
  func drawMarks(randomState: inout RandomState, cancellation: Cancellation)
    throws(NoiseGenerationError) -> ScratchBuffer<UInt16>
  {
    let n = offsets[K]
    guard let marks = ScratchBuffer<UInt16>(count: n, zeroed: true) else {
      throw .invalidArgument(argument: "true_labels", reason: "cannot allocate \(n) marks")
    }
    let largest = (0..<K).filter { flipsPerClass[$0] > 0 }.map { counts[$0] }.max() ?? 0
    guard let scratch = ScratchBuffer<UInt32>(count: largest, zeroed: false) else {
      throw .invalidArgument(argument: "true_labels", reason: "cannot allocate \(largest) indices")
    }
    for k in 0..<K where flipsPerClass[k] > 0 {
      try cancellation.check()
      let ranks = UnsafeMutableBufferPointer(start: scratch.base, count: counts[k])
      try randomState.permutationPrefix(ranks, prefix: flipsPerClass[k], cancellation: cancellation)
      let classMarks = marks.base + offsets[k]
      var t = 0
      for i in 0..<K where i != k {
        let repeats = jointCounts[i * K + k]
        let code = UInt16(truncatingIfNeeded: i + 1)
        for _ in 0..<repeats {
          classMarks[Int(ranks[t])] = code
          t += 1
        }
      }
    }
    return marks
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
