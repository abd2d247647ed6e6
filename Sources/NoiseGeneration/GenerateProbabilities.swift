/// The default bound on each of the two adjustment loops of
/// ``generateNRandProbabilitiesThatSumToM(n:m:maxProb:minProb:randomState:cancellation:iterationLimit:)``.
///
/// cleanlab's loops have no bound. In a search of about 500,000 random calls with bounds at and
/// within 1e-6 of `m / n` (the fixture script's `--explore-iterations`), no call needed more than
/// 150 iterations, so a call that reaches this bound is one cleanlab would spend minutes or
/// forever on.
public let probabilityAdjustmentLimit = 100_000

/// The largest `n` accepted by the probability and balls functions: 2**24 entries (128 MiB).
public let maxProbabilityCount = 1 << 24

/// cleanlab's `generate_n_rand_probabilities_that_sum_to_m(n, m, max_prob=1.0, min_prob=0.0)`:
/// `n` random probabilities that sum to `m`, each within `[min_prob, max_prob]` up to 1e-6.
///
/// The algorithm, reproduced statement by statement:
/// 1. `n == 0` returns an empty array.
/// 2. `max_prob + 1e-6 < m / n` and `min_prob > (m + 1e-6) / n` raise cleanlab's `ValueError`s.
/// 3. `result = dirichlet(ones(n)) * m` (see ``RandomState/dirichletOnes(count:)``).
/// 4. While the largest entry exceeds `max_prob + 1e-6`: the first smallest entry is raised by the
///    excess plus a random share of the remaining room, then the first largest entry (found after
///    that assignment) is set to `max_prob` minus the same share. One `rand()` per iteration.
/// 5. While the smallest entry is below `min_prob - 1e-6`: the mirror image, first largest entry
///    then first smallest.
///
/// Ties resolve to the first index, as Python's `min`/`max` and numpy's `argmin`/`argmax` do.
///
/// Departures from cleanlab:
/// - The adjustment loops are bounded by `iterationLimit` each and consult `cancellation`
///   every 1024 iterations; cleanlab's are unbounded.
/// - NaN or infinite `m`, `maxProb` or `minProb` throw, where cleanlab returns NaNs.
/// - A negative `n` that passes cleanlab's checks throws numpy's "negative dimensions" error as
///   a ``NoiseGenerationError/numpy(message:)``; `n` above ``maxProbabilityCount`` throws.
///
/// - Complexity: O(n), plus O(log n) per adjustment iteration for `n` of 1024 or more and O(n)
///   per iteration below that (see ``ExtremaTracker``).
/// - Throws: ``NoiseGenerationError``: `.cleanlab` for cleanlab's two `ValueError`s,
///   `.iterationLimitExceeded`, `.cancelled`, `.invalidArgument`, `.numpy`.
public func generateNRandProbabilitiesThatSumToM(
  n: Int,
  m: PythonNumber,
  maxProb: PythonNumber = 1.0,
  minProb: Double = 0.0,
  randomState: inout RandomState,
  cancellation: Cancellation = .none,
  iterationLimit: Int = probabilityAdjustmentLimit
) throws(NoiseGenerationError) -> [Double] {
  if n == 0 { return [] }
  try checkProbabilityArguments(n: n, m: m, maxProb: maxProb, minProb: minProb)
  if n < 0 { throw .numpy(message: "negative dimensions are not allowed") }
  if n > maxProbabilityCount {
    throw .invalidArgument(argument: "n", reason: "must be at most \(maxProbabilityCount)")
  }
  return try [Double](unsafeUninitializedCapacity: n) {
    (values, initialized) throws(NoiseGenerationError) in
    try drawRandProbabilities(
      values, m: m.value, maxProb: maxProb.value, minProb: minProb, randomState: &randomState,
      cancellation: cancellation, iterationLimit: iterationLimit)
    initialized = n
  }
}

/// ``generateNRandProbabilitiesThatSumToM(n:m:maxProb:minProb:randomState:cancellation:iterationLimit:)``
/// with `n = values.count`, written into `values` instead of a new array.
func generateNRandProbabilitiesThatSumToM(
  into values: UnsafeMutableBufferPointer<Double>,
  m: PythonNumber,
  maxProb: PythonNumber,
  minProb: Double,
  randomState: inout RandomState,
  cancellation: Cancellation
) throws(NoiseGenerationError) {
  let n = values.count
  if n == 0 { return }
  try checkProbabilityArguments(n: n, m: m, maxProb: maxProb, minProb: minProb)
  try drawRandProbabilities(
    values, m: m.value, maxProb: maxProb.value, minProb: minProb, randomState: &randomState,
    cancellation: cancellation, iterationLimit: probabilityAdjustmentLimit)
}

/// Step 2 and the finiteness checks, for `n != 0`.
private func checkProbabilityArguments(
  n: Int, m: PythonNumber, maxProb: PythonNumber, minProb: Double
) throws(NoiseGenerationError) {
  try requireFinite(m.value, "m")
  try requireFinite(maxProb.value, "max_prob")
  try requireFinite(minProb, "min_prob")
  if (maxProb.value + floatingPointComparison) < m.value / Double(n) {
    throw .cleanlab(.maxProbBelowMean(maxProb: maxProb, m: m, n: n))
  }
  if minProb > (m.value + floatingPointComparison) / Double(n) {
    throw .cleanlab(.minProbAboveMean(maxProb: maxProb, m: m, n: n))
  }
}

/// Steps 3 to 5 on a non-empty buffer.
private func drawRandProbabilities(
  _ values: UnsafeMutableBufferPointer<Double>,
  m: Double,
  maxProb upper: Double,
  minProb lower: Double,
  randomState: inout RandomState,
  cancellation: Cancellation,
  iterationLimit: Int
) throws(NoiseGenerationError) {
  randomState.fillDirichletOnes(values, scale: m)
  let bounds = (upper: upper, lower: lower)
  if values.count < extremaTreeThreshold {
    var extrema = LinearExtrema(values)
    try adjustIntoBounds(values, &extrema, bounds, &randomState, cancellation, iterationLimit)
  } else {
    var extrema = BlockTreeExtrema(values)
    try adjustIntoBounds(values, &extrema, bounds, &randomState, cancellation, iterationLimit)
  }
}

/// Steps 4 and 5 of ``generateNRandProbabilitiesThatSumToM(n:m:maxProb:minProb:randomState:cancellation:iterationLimit:)``.
private func adjustIntoBounds<Extrema: ExtremaTracker>(
  _ values: UnsafeMutableBufferPointer<Double>,
  _ extrema: inout Extrema,
  _ bounds: (upper: Double, lower: Double),
  _ randomState: inout RandomState,
  _ cancellation: Cancellation,
  _ iterationLimit: Int
) throws(NoiseGenerationError) {
  let (upper, lower) = bounds
  var iterations = 0
  while values[extrema.maxIndex()] > (upper + floatingPointComparison) {
    iterations += 1
    try checkProgress(iterations, iterationLimit, cancellation)
    let minIndex = extrema.minIndex()
    let newMin = values[minIndex] + (values[extrema.maxIndex()] - upper)
    let adjustment = (upper - newMin) * randomState.rand()
    values[minIndex] = newMin + adjustment
    extrema.changed(at: minIndex)
    let maxIndex = extrema.maxIndex()
    values[maxIndex] = upper - adjustment
    extrema.changed(at: maxIndex)
  }

  iterations = 0
  while values[extrema.minIndex()] < (lower - floatingPointComparison) {
    iterations += 1
    try checkProgress(iterations, iterationLimit, cancellation)
    let maxIndex = extrema.maxIndex()
    let newMax = values[maxIndex] - (lower - values[extrema.minIndex()])
    let adjustment = (newMax - lower) * randomState.rand()
    values[maxIndex] = newMax - adjustment
    extrema.changed(at: maxIndex)
    let minIndex = extrema.minIndex()
    values[minIndex] = lower + adjustment
    extrema.changed(at: minIndex)
  }
}

@inline(__always)
private func checkProgress(_ iterations: Int, _ limit: Int, _ cancellation: Cancellation)
  throws(NoiseGenerationError)
{
  if iterations > limit {
    throw .iterationLimitExceeded(
      function: "generate_n_rand_probabilities_that_sum_to_m", limit: limit)
  }
  if iterations & 1023 == 0 { try cancellation.check() }
}

func requireFinite(_ value: Double, _ name: String) throws(NoiseGenerationError) {
  if !value.isFinite {
    throw .invalidArgument(argument: name, reason: "must be finite, is \(pythonRepr(value))")
  }
}
