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
/// - Complexity: O(n) plus O(n) per adjustment iteration.
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
  try requireFinite(m.value, "m")
  try requireFinite(maxProb.value, "max_prob")
  try requireFinite(minProb, "min_prob")
  let upper = maxProb.value
  if (upper + floatingPointComparison) < m.value / Double(n) {
    throw .cleanlab(.maxProbBelowMean(maxProb: maxProb, m: m, n: n))
  }
  if minProb > (m.value + floatingPointComparison) / Double(n) {
    throw .cleanlab(.minProbAboveMean(maxProb: maxProb, m: m, n: n))
  }
  if n < 0 { throw .numpy(message: "negative dimensions are not allowed") }
  if n > maxProbabilityCount {
    throw .invalidArgument(argument: "n", reason: "must be at most \(maxProbabilityCount)")
  }

  var result = try randomState.dirichletOnes(count: n)
  let scale = m.value
  for i in 0..<n { result[i] = result[i] * scale }

  try result.withUnsafeMutableBufferPointer { (values) throws(NoiseGenerationError) -> Void in
    var extremes = Extremes(values)
    var iterations = 0
    while extremes.maxValue > (upper + floatingPointComparison) {
      iterations += 1
      try checkProgress(iterations, iterationLimit, cancellation)
      let newMin = extremes.minValue + (extremes.maxValue - upper)
      let adjustment = (upper - newMin) * randomState.rand()
      values[extremes.minIndex] = newMin + adjustment
      values[firstMaxIndex(values)] = upper - adjustment
      extremes = Extremes(values)
    }

    let lower = minProb
    iterations = 0
    while extremes.minValue < (lower - floatingPointComparison) {
      iterations += 1
      try checkProgress(iterations, iterationLimit, cancellation)
      let newMax = extremes.maxValue - (lower - extremes.minValue)
      let adjustment = (newMax - lower) * randomState.rand()
      values[extremes.maxIndex] = newMax - adjustment
      values[firstMinIndex(values)] = lower + adjustment
      extremes = Extremes(values)
    }
  }
  return result
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

/// The first smallest and first largest entries, as Python's `min`/`max` and numpy's
/// `argmin`/`argmax` find them. `values` must not be empty.
struct Extremes {
  var minIndex = 0
  var maxIndex = 0
  var minValue: Double
  var maxValue: Double

  init(_ values: UnsafeMutableBufferPointer<Double>) {
    minValue = values[0]
    maxValue = values[0]
    for i in 1..<values.count {
      let v = values[i]
      if v < minValue {
        minValue = v
        minIndex = i
      }
      if v > maxValue {
        maxValue = v
        maxIndex = i
      }
    }
  }
}

/// `np.argmax`: the first index of the largest entry.
func firstMaxIndex<C: RandomAccessCollection>(_ values: C) -> Int
where C.Element == Double, C.Index == Int {
  var best = values.startIndex
  var bestValue = values[best]
  for i in values.indices.dropFirst() where values[i] > bestValue {
    best = i
    bestValue = values[i]
  }
  return best
}

/// `np.argmin`: the first index of the smallest entry.
func firstMinIndex<C: RandomAccessCollection>(_ values: C) -> Int
where C.Element == Double, C.Index == Int {
  var best = values.startIndex
  var bestValue = values[best]
  for i in values.indices.dropFirst() where values[i] < bestValue {
    best = i
    bestValue = values[i]
  }
  return best
}
