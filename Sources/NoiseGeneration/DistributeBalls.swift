/// The largest `N` accepted by
/// ``randomlyDistributeNBallsIntoKBins(N:K:maxBallsPerBin:minBallsPerBin:randomState:cancellation:)``:
/// 2**50. Bin counts are held in doubles, as cleanlab holds them; far beyond this, adding 1 to a
/// count no longer changes it and cleanlab's correction loop never ends.
public let maxBalls = 1 << 50

/// cleanlab's `randomly_distribute_N_balls_into_K_bins(N, K, max_balls_per_bin=None,
/// min_balls_per_bin=None)`: `K` non-negative counts that sum to `N`, drawn by rounding random
/// probabilities.
///
/// (cleanlab's docstring swaps `N` and `K`; the code returns `K` counts summing to `N`.)
///
/// The algorithm, reproduced statement by statement:
/// 1. `N == 0` returns `K` zeros without drawing.
/// 2. `max_balls_per_bin` defaults to `N`, else is capped at `N`; `min_balls_per_bin` defaults to
///    0, else is capped at `N / K` (a float division).
/// 3. If `N / K > max_balls_per_bin`, `N` becomes `max_balls_per_bin * K`.
/// 4. `arr = round(generate_n_rand_probabilities_that_sum_to_m(K, 1, max_prob=max/N,
///    min_prob=min/N) * N)` with numpy's round-half-to-even. cleanlab passes the integer `m=1`,
///    which its error messages print as `m = 1`.
/// 5. While `sum(arr) != N`: decrement the first largest bin while the sum is above `N`, then
///    increment the first smallest while below. Sums are Python's left-to-right float sums,
///    exact here because every partial sum is an integer below 2**53.
///
/// Departures from cleanlab:
/// - Negative `N`, `maxBallsPerBin` or `minBallsPerBin`, and a non-positive `K` with `N > 0`,
///   throw ``NoiseGenerationError/invalidArgument(argument:reason:)``. cleanlab returns negative
///   counts for some of these and raises `ZeroDivisionError` or numpy errors for others.
/// - `maxBallsPerBin == 0` with `N > 0` throws where cleanlab divides by zero.
/// - An `N` still above ``maxBalls`` after the `max_balls_per_bin * K` cap, and `K` above
///   ``maxProbabilityCount``, throw.
/// - The correction loop is bounded and consults `cancellation`.
///
/// - Complexity: O(K), plus O(log K) per correction step for `K` of 1024 or more and O(K) per
///   step below that; there are at most about `K / 2` steps.
/// - Throws: ``NoiseGenerationError``, including cleanlab's `ValueError`s from the probability
///   generator.
public func randomlyDistributeNBallsIntoKBins(
  N: Int,
  K: Int,
  maxBallsPerBin: Int? = nil,
  minBallsPerBin: Int? = nil,
  randomState: inout RandomState,
  cancellation: Cancellation = .none
) throws(NoiseGenerationError) -> [Int] {
  if N < 0 { throw .invalidArgument(argument: "N", reason: "must be non-negative, is \(N)") }
  if K < 0 { throw .invalidArgument(argument: "K", reason: "must be non-negative, is \(K)") }
  if K > maxProbabilityCount {
    throw .invalidArgument(argument: "K", reason: "must be at most \(maxProbabilityCount)")
  }
  if let maxBallsPerBin, maxBallsPerBin < 0 {
    throw .invalidArgument(
      argument: "max_balls_per_bin", reason: "must be non-negative, is \(maxBallsPerBin)")
  }
  if let minBallsPerBin, minBallsPerBin < 0 {
    throw .invalidArgument(
      argument: "min_balls_per_bin", reason: "must be non-negative, is \(minBallsPerBin)")
  }
  if N == 0 { return [Int](repeating: 0, count: K) }
  if K == 0 {
    throw .invalidArgument(
      argument: "K", reason: "must be positive when N > 0 (cleanlab divides by K)")
  }
  return try withUnsafeTemporaryAllocation(of: Double.self, capacity: K) {
    (bins) throws(NoiseGenerationError) -> [Int] in
    try [Int](unsafeUninitializedCapacity: K) {
      (counts, initialized) throws(NoiseGenerationError) in
      try randomlyDistributeNBallsIntoKBins(
        N: N, into: counts, bins: bins, maxBallsPerBin: maxBallsPerBin,
        minBallsPerBin: minBallsPerBin, randomState: &randomState, cancellation: cancellation)
      initialized = K
    }
  }
}

/// ``randomlyDistributeNBallsIntoKBins(N:K:maxBallsPerBin:minBallsPerBin:randomState:cancellation:)``
/// with `K = counts.count`, writing the counts into `counts` and using `bins` (at least `K`
/// entries) as scratch. The caller has made the checks that precede cleanlab's `N == 0` return.
func randomlyDistributeNBallsIntoKBins(
  N: Int,
  into counts: UnsafeMutableBufferPointer<Int>,
  bins scratch: UnsafeMutableBufferPointer<Double>,
  maxBallsPerBin: Int?,
  minBallsPerBin: Int?,
  randomState: inout RandomState,
  cancellation: Cancellation
) throws(NoiseGenerationError) {
  let K = counts.count
  if N == 0 {
    counts.update(repeating: 0)
    return
  }
  if K == 0 {
    throw .invalidArgument(
      argument: "K", reason: "must be positive when N > 0 (cleanlab divides by K)")
  }

  let upper = maxBallsPerBin.map { Swift.min($0, N) } ?? N
  // Python's min(int, float) keeps the int unless the float is smaller; only the value matters.
  let lower: Double = minBallsPerBin.map { Swift.min(Double($0), Double(N) / Double(K)) } ?? 0
  var total = N
  if Double(N) / Double(K) > Double(upper) { total = upper * K }
  if total == 0 {
    throw .invalidArgument(
      argument: "max_balls_per_bin", reason: "must be positive when N > 0 (cleanlab divides by 0)")
  }
  if total > maxBalls {
    throw .invalidArgument(
      argument: "N", reason: "must be at most \(maxBalls) after capping by max_balls_per_bin * K")
  }

  let bins = UnsafeMutableBufferPointer(rebasing: scratch[0..<K])
  try generateNRandProbabilitiesThatSumToM(
    into: bins, m: .int(1), maxProb: .float(Double(upper) / Double(total)),
    minProb: lower / Double(total), randomState: &randomState, cancellation: cancellation)

  let target = Double(total)
  for i in 0..<K { bins[i] = (bins[i] * target).rounded(.toNearestOrEven) }
  // Every bin is a non-negative integer and every partial sum stays below 2**53 (bins are about
  // total * probability <= 2**50 each, and sum to about total), so Python's float sum is exact
  // and each correction step moves it by exactly 1. Tracking it incrementally is therefore the
  // same as cleanlab's re-summing on every test.
  var sum = pythonSum(UnsafeBufferPointer(bins))
  var steps = 0
  let stepLimit = 4 * K + 64
  func step() throws(NoiseGenerationError) {
    steps += 1
    if steps > stepLimit {
      throw .iterationLimitExceeded(
        function: "randomly_distribute_N_balls_into_K_bins", limit: stepLimit)
    }
    if steps & 1023 == 0 { try cancellation.check() }
  }
  func correct<Extrema: ExtremaTracker>(_ extrema: inout Extrema) throws(NoiseGenerationError) {
    while sum != target {
      while sum > target {
        try step()
        let i = extrema.maxIndex()
        bins[i] -= 1
        extrema.changed(at: i)
        sum -= 1
      }
      while sum < target {
        try step()
        let i = extrema.minIndex()
        bins[i] += 1
        extrema.changed(at: i)
        sum += 1
      }
    }
  }
  if K < extremaTreeThreshold {
    var extrema = LinearExtrema(bins)
    try correct(&extrema)
  } else {
    var extrema = BlockTreeExtrema(bins)
    try correct(&extrema)
  }
  assert(pythonSum(UnsafeBufferPointer(bins)) == target)
  for i in 0..<K { counts[i] = Int(bins[i]) }
}

/// Python's built-in `sum` over a float array: left to right from the integer 0.
func pythonSum(_ values: UnsafeBufferPointer<Double>) -> Double {
  var total = 0.0
  for v in values { total = total + v }
  return total
}
