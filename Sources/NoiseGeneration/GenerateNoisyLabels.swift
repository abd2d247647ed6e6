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
/// Implementation: a vectorized pass checks the labels and one pass counts classes; per class,
/// the permutation is drawn into a reused 32-bit index buffer, and a table holding every
/// example's final label by class and rank (one byte per example for K <= 256, two up to
/// 65,536, four above) gets the flipped ranks' new labels; a final pass walks the labels,
/// keeping a running rank per class, and copies each one's final label. No per-element
/// allocation.
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
/// - Complexity: O(N + K²) time; N one-, two- or four-byte marks plus the largest class's 32-bit
///   indices of extra memory.
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
    adviseHugePages(UnsafeMutableRawBufferPointer(output))
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
/// faults cheap (the array-returning form advises its array so); the library's own scratch
/// memory already is.
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
  try checkLabels(trueLabels, classes: K)

  let lanes = NoisyLabelLanes(count: n)
  let laneCounts = countClasses(input, lanes: lanes, classes: K)
  let plan = NoisyLabelPlan(laneCounts: laneCounts, noiseMatrix: noiseMatrix)
  guard plan.flipped > 0 else {
    out.update(from: input, count: n)
    return 0
  }
  // the narrowest marks that hold every label
  if K <= 256 {
    try drawAndRelabel(
      UInt8.self, input, out, plan: plan, lanes: lanes, randomState: &randomState,
      cancellation: cancellation)
  } else if K <= 1 << 16 {
    try drawAndRelabel(
      UInt16.self, input, out, plan: plan, lanes: lanes, randomState: &randomState,
      cancellation: cancellation)
  } else {
    try drawAndRelabel(
      UInt32.self, input, out, plan: plan, lanes: lanes, randomState: &randomState,
      cancellation: cancellation)
  }
  return plan.flipped
}

/// Draws the plan's marks as `Mark`s, then relabels with them.
@inlinable
func drawAndRelabel<Label: FixedWidthInteger, Mark: FixedWidthInteger>(
  _: Mark.Type, _ input: UnsafePointer<Label>, _ out: UnsafeMutablePointer<Label>,
  plan: NoisyLabelPlan, lanes: NoisyLabelLanes, randomState: inout RandomState,
  cancellation: Cancellation
) throws(NoiseGenerationError) {
  let marks: ScratchBuffer<Mark> = try plan.drawMarks(
    randomState: &randomState, cancellation: cancellation)
  relabel(input, out, marks: marks, plan: plan, lanes: lanes)
}

/// Throws for the first label outside `0..<K`. The common case, all labels valid, is one
/// vectorizable maximum: read as unsigned 64-bit values (negative labels sign-extend to huge
/// ones), every label is below `K` exactly when the largest is.
@inlinable
func checkLabels<Label: FixedWidthInteger>(_ labels: UnsafeBufferPointer<Label>, classes K: Int)
  throws(NoiseGenerationError)
{
  var largest: UInt64 = 0
  for label in labels { largest = Swift.max(largest, UInt64(truncatingIfNeeded: label)) }
  if largest < UInt64(K) { return }
  for (i, label) in labels.enumerated()
  where label < 0 || UInt64(truncatingIfNeeded: label) >= UInt64(K) {
    throw .invalidArgument(
      argument: "true_labels", reason: "label \(label) at index \(i) is outside 0...\(K - 1)")
  }
}

/// The labels split into four contiguous lanes that the counting and relabelling passes walk
/// side by side, each with its own counters, so that runs of equal labels do not serialize on
/// one counter. Lane `l` is `l * length ..< (l + 1) * length`; the last lane also takes the
/// `tail`, the `count % 4` labels after `4 * length`.
@usableFromInline
struct NoisyLabelLanes {
  /// The passes' loops are unrolled for exactly this many lanes.
  @usableFromInline static let count = 4
  @usableFromInline let length: Int
  @usableFromInline let tail: Range<Int>

  @inlinable init(count: Int) {
    length = count / Self.count
    tail = (Self.count * length)..<count
  }
}

/// Pass 1: the number of labels of each class in each lane, `counts[lane * K + class]`. The
/// labels are known to be in `0..<K`.
@inlinable
func countClasses<Label: FixedWidthInteger>(
  _ input: UnsafePointer<Label>, lanes: NoisyLabelLanes, classes K: Int
) -> [Int] {
  var counts = [Int](repeating: 0, count: NoisyLabelLanes.count * K)
  counts.withUnsafeMutableBufferPointer { buffer in
    let c0 = buffer.baseAddress!
    let (c1, c2, c3) = (c0 + K, c0 + 2 * K, c0 + 3 * K)
    let length = lanes.length
    let (l1, l2, l3) = (input + length, input + 2 * length, input + 3 * length)
    for i in 0..<length {
      c0[Int(truncatingIfNeeded: input[i])] &+= 1
      c1[Int(truncatingIfNeeded: l1[i])] &+= 1
      c2[Int(truncatingIfNeeded: l2[i])] &+= 1
      c3[Int(truncatingIfNeeded: l3[i])] &+= 1
    }
    for i in lanes.tail { c3[Int(truncatingIfNeeded: input[i])] &+= 1 }
  }
  return counts
}

/// Pass 2: walks the lanes side by side, keeping each class's running rank within each lane as
/// a pointer into its marks, and writes each label's mark, its final label.
@inlinable
func relabel<Label: FixedWidthInteger, Mark: FixedWidthInteger>(
  _ input: UnsafePointer<Label>, _ out: UnsafeMutablePointer<Label>, marks: ScratchBuffer<Mark>,
  plan: NoisyLabelPlan, lanes: NoisyLabelLanes
) {
  let K = plan.K
  var cursors = [UnsafeMutablePointer<Mark>](
    repeating: marks.base, count: NoisyLabelLanes.count * K)
  for k in 0..<K {
    var start = plan.offsets[k]
    for lane in 0..<NoisyLabelLanes.count {
      cursors[lane * K + k] = marks.base + start
      start += plan.laneCounts[lane * K + k]
    }
  }
  cursors.withUnsafeMutableBufferPointer { buffer in
    let c0 = buffer.baseAddress!
    let (c1, c2, c3) = (c0 + K, c0 + 2 * K, c0 + 3 * K)
    let length = lanes.length
    let (i1, i2, i3) = (input + length, input + 2 * length, input + 3 * length)
    let (o1, o2, o3) = (out + length, out + 2 * length, out + 3 * length)
    @inline(__always)
    func step(
      _ cursors: UnsafeMutablePointer<UnsafeMutablePointer<Mark>>, _ label: Label,
      _ target: UnsafeMutablePointer<Label>
    ) {
      let k = Int(truncatingIfNeeded: label)
      target.pointee = Label(truncatingIfNeeded: cursors[k].pointee)
      cursors[k] += 1
    }
    for i in 0..<length {
      step(c0, input[i], out + i)
      step(c1, i1[i], o1 + i)
      step(c2, i2[i], o2 + i)
      step(c3, i3[i], o3 + i)
    }
    for i in lanes.tail { step(c3, input[i], out + i) }
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
  /// Examples per class in each lane of ``NoisyLabelLanes``, `laneCounts[lane * K + class]`.
  @usableFromInline let laneCounts: [Int]
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
  init(laneCounts: [Int], noiseMatrix: NoiseMatrix) {
    let K = noiseMatrix.K
    let counts = (0..<K).map { k in
      (0..<NoisyLabelLanes.count).reduce(0) { $0 &+ laneCounts[$1 * K + k] }
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
    self.laneCounts = laneCounts
    self.jointCounts = joint
    self.flipsPerClass = flips
    self.offsets = offsets
    self.flipped = flips.reduce(0, +)
  }

  /// Every example's final label, indexed by class offset plus rank within the class: the class
  /// itself, except for the first `flips` entries of numpy's permutation of the class's ranks,
  /// which get the noise labels in the order of cleanlab's noise list (each noisy label `i`
  /// ascending, repeated `count_joint[i][k]` times). Flipping classes are drawn in order.
  @inlinable
  func drawMarks<Mark: FixedWidthInteger>(
    randomState: inout RandomState, cancellation: Cancellation
  )
    throws(NoiseGenerationError) -> ScratchBuffer<Mark>
  {
    let n = offsets[K]
    guard let marks = ScratchBuffer<Mark>(count: n, zeroed: false) else {
      throw .invalidArgument(argument: "true_labels", reason: "cannot allocate \(n) marks")
    }
    for k in 0..<K {
      (marks.base + offsets[k]).update(repeating: Mark(truncatingIfNeeded: k), count: counts[k])
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
        let code = Mark(truncatingIfNeeded: i)
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
