/// What ``generateNoisyLabels(trueLabels:noiseMatrix:randomState:cancellation:)`` returns.
public struct NoisyLabels<Label: FixedWidthInteger & Sendable>: Equatable, Sendable {
  /// cleanlab's return value, in the input's integer type.
  public var labels: [Label]
  /// How many labels differ from the true labels.
  public var numFlipped: Int
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
/// are unspecified.
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

  // Pass 1: validate and count the classes.
  var counts = [Int](repeating: 0, count: K)
  let limit = UInt64(K)
  try counts.withUnsafeMutableBufferPointer { (counts) throws(NoiseGenerationError) in
    for i in 0..<n {
      let label = trueLabels[i]
      guard label >= 0, UInt64(truncatingIfNeeded: label) < limit else {
        throw .invalidArgument(
          argument: "true_labels",
          reason: "label \(label) at index \(i) is outside 0...\(K - 1)")
      }
      counts[Int(truncatingIfNeeded: label)] += 1
    }
  }
  if n == 0 { return 0 }

  // count_joint = (noise_matrix * py * N).astype(int), diagonal zeroed; flips per true class.
  let total = Double(n)
  var flipsPerClass = [Int](repeating: 0, count: K)
  var jointCounts = [Int](repeating: 0, count: K * K)
  for k in 0..<K {
    let prior = Double(counts[k]) / total
    var flips = 0
    var overflow = false
    for i in 0..<K where i != k {
      let c = numpyIntCast((noiseMatrix[i, k] * prior) * total)
      let positive = Swift.max(c, 0)
      jointCounts[i * K + k] = positive
      let (sum, didOverflow) = flips.addingReportingOverflow(positive)
      flips = sum
      overflow = overflow || didOverflow
    }
    let available = counts[k]
    flipsPerClass[k] = (!overflow && flips > 0 && available > 0 && available >= flips) ? flips : 0
  }

  let flippedTotal = flipsPerClass.reduce(0, +)
  if flippedTotal == 0 {
    if n > 0 { output.baseAddress!.update(from: trueLabels.baseAddress!, count: n) }
    return 0
  }

  // Per class: draw numpy's permutation of the class's ranks and mark the first `flips` ranks
  // with their new labels, in the order cleanlab's noise list gives them.
  let unmarked = UInt16.max
  var offsets = [Int](repeating: 0, count: K + 1)
  for k in 0..<K { offsets[k + 1] = offsets[k] + counts[k] }
  var marks = [UInt16](repeating: unmarked, count: n)
  let largest = (0..<K).filter { flipsPerClass[$0] > 0 }.map { counts[$0] }.max() ?? 0
  var permutation = [UInt32](repeating: 0, count: largest)
  try marks.withUnsafeMutableBufferPointer { (marks) throws(NoiseGenerationError) in
    try permutation.withUnsafeMutableBufferPointer { (scratch) throws(NoiseGenerationError) in
      for k in 0..<K where flipsPerClass[k] > 0 {
        try cancellation.check()
        let size = counts[k]
        let ranks = UnsafeMutableBufferPointer(rebasing: scratch[0..<size])
        try randomState.permuteIdentity(ranks, cancellation: cancellation)
        let classMarks = marks.baseAddress! + offsets[k]
        var t = 0
        for i in 0..<K where i != k {
          let repeats = jointCounts[i * K + k]
          let code = UInt16(truncatingIfNeeded: i)
          for _ in 0..<repeats {
            classMarks[Int(ranks[t])] = code
            t += 1
          }
        }
      }
    }
  }

  // Pass 2: walk the labels in order with a running rank per class.
  var cursors = Array(offsets[0..<K])
  marks.withUnsafeBufferPointer { marks in
    cursors.withUnsafeMutableBufferPointer { cursors in
      let m = marks.baseAddress!
      let c = cursors.baseAddress!
      let out = output.baseAddress!
      let input = trueLabels.baseAddress!
      for i in 0..<n {
        let label = input[i]
        let k = Int(truncatingIfNeeded: label)
        let mark = m[c[k]]
        c[k] += 1
        out[i] = mark == unmarked ? label : Label(truncatingIfNeeded: mark)
      }
    }
  }
  return flippedTotal
}

/// numpy's `astype(int)` of a float64 on x86-64: truncation toward zero, and INT64_MIN for NaN
/// and values outside the int64 range (what `cvttsd2si` returns).
@inline(__always)
func numpyIntCast(_ value: Double) -> Int {
  guard value > -9_223_372_036_854_775_808.0, value < 9_223_372_036_854_775_808.0 else {
    return Int.min
  }
  return Int(value)
}
