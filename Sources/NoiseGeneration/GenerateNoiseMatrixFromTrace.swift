/// What ``generateNoiseMatrixFromTrace(K:trace:maxTraceProb:minTraceProb:maxNoiseRate:minNoiseRate:validNoiseMatrix:py:fracZeroNoiseRates:seed:maxIter:cancellation:)``
/// returns: cleanlab's matrix or `None`, plus how many attempts it took.
public struct NoiseMatrixFromTrace: Equatable, Sendable {
  /// cleanlab's return value; nil where cleanlab returns `None` (`max_iter` attempts failed,
  /// or `max_iter < 1`).
  public var matrix: NoiseMatrix?
  /// How many candidate matrices were drawn: 0 when `max_iter < 1`, 1 for `K == 2`.
  public var iterations: Int
}

/// cleanlab's `generate_noise_matrix_from_trace(K, trace, *, max_trace_prob=1.0,
/// min_trace_prob=1e-5, max_noise_rate=1-1e-5, min_noise_rate=0.0, valid_noise_matrix=True,
/// py=None, frac_zero_noise_rates=0.0, seed=0, max_iter=10000)`.
///
/// Returns a `K×K` noise matrix whose diagonal sums to `trace` and whose columns sum to 1, drawn
/// from numpy's generator seeded with `seed`, bit-identical to cleanlab 2.9.0.
///
/// The algorithm, reproduced statement by statement:
/// 1. Argument checks in cleanlab's order: `valid_noise_matrix and trace <= 1`,
///    `valid_noise_matrix and py is None and K > 2`, `K <= 1` (cleanlab's `ValueError`s); then
///    `max_iter < 1` returns `None` before seeding.
/// 2. `np.random.seed(seed)`.
/// 3. `K == 2`: with `frac_zero_noise_rates >= 0.5` the matrix `[[1, 1-(trace-1)], [0, trace-1]]`
///    is returned if `rand() > 0.5`, else its `rot90(k=2)`; otherwise the diagonal is
///    `generate_n_rand_probabilities_that_sum_to_m(2, trace)` with the default bounds.
/// 4. `K > 2`, up to `max_iter` attempts: draw the diagonal with the trace bounds; count the
///    columns whose diagonal is exactly 1; spread `int(K*(K-1)*frac_zero_noise_rates)` zero
///    noise rates (less the `K-1` zeros of each such column, floored at 0) over the other columns
///    with `randomly_distribute_N_balls_into_K_bins(max_balls_per_bin=K-2, min_balls_per_bin=0)`;
///    for each of those columns in order, draw its `K-1-zeros` noise rates summing to
///    `1 - diagonal`, choose their rows with `choice(other rows, replace=False)`, and pop the
///    rates from the end of the list into the chosen rows in order. The attempt is returned if
///    `valid_noise_matrix` is false or ``noiseMatrixIsValid(_:py:)`` accepts it.
///
/// Departures from cleanlab:
/// - NaN or infinite float arguments, and a `py` that is not length `K`, throw. cleanlab
///   returns NaN matrices, `None`, or raises numpy's "shapes not aligned"; the `py` check is made
///   where cleanlab first uses `py`, so `K == 2` or `max_iter < 1` still succeed without it.
/// - `frac_zero_noise_rates` so large that `int(K*(K-1)*frac)` overflows int64 throws, where
///   cleanlab raises `OverflowError`.
/// - `K` above ``NoiseMatrix/maxClasses`` throws.
/// - `cancellation` is consulted before every attempt and inside the probability loops, which
///   are bounded (see ``generateNRandProbabilitiesThatSumToM(n:m:maxProb:minProb:randomState:cancellation:iterationLimit:)``).
///
/// - Complexity: O(max_iter · K²) in the worst case; each attempt draws O(K²) numbers.
/// - Throws: ``NoiseGenerationError``.
public func generateNoiseMatrixFromTrace(
  K: Int,
  trace: PythonNumber,
  maxTraceProb: PythonNumber = 1.0,
  minTraceProb: Double = 1e-5,
  maxNoiseRate: PythonNumber = .float(1 - 1e-5),
  minNoiseRate: Double = 0.0,
  validNoiseMatrix: Bool = true,
  py: [Double]? = nil,
  fracZeroNoiseRates: Double = 0.0,
  seed: Int = 0,
  maxIter: Int = 10000,
  cancellation: Cancellation = .none
) throws(NoiseGenerationError) -> NoiseMatrixFromTrace {
  var random = RandomState(seed: UInt32(0))
  return try generateNoiseMatrixFromTrace(
    K: K, trace: trace, maxTraceProb: maxTraceProb, minTraceProb: minTraceProb,
    maxNoiseRate: maxNoiseRate, minNoiseRate: minNoiseRate, validNoiseMatrix: validNoiseMatrix,
    py: py, fracZeroNoiseRates: fracZeroNoiseRates, seed: seed, maxIter: maxIter,
    cancellation: cancellation, randomState: &random)
}

/// The same, leaving numpy's global generator state after the call in `randomState` (which is
/// reseeded exactly when cleanlab calls `np.random.seed`, so an argument error leaves it as it
/// was).
func generateNoiseMatrixFromTrace(
  K: Int,
  trace: PythonNumber,
  maxTraceProb: PythonNumber,
  minTraceProb: Double,
  maxNoiseRate: PythonNumber,
  minNoiseRate: Double,
  validNoiseMatrix: Bool,
  py: [Double]?,
  fracZeroNoiseRates: Double,
  seed: Int,
  maxIter: Int,
  cancellation: Cancellation,
  randomState random: inout RandomState
) throws(NoiseGenerationError) -> NoiseMatrixFromTrace {
  try checkNoiseMatrixArguments(
    K: K, trace: trace, maxTraceProb: maxTraceProb, minTraceProb: minTraceProb,
    maxNoiseRate: maxNoiseRate, minNoiseRate: minNoiseRate, validNoiseMatrix: validNoiseMatrix,
    py: py, fracZeroNoiseRates: fracZeroNoiseRates)
  if maxIter < 1 { return NoiseMatrixFromTrace(matrix: nil, iterations: 0) }
  try checkClassCount(K)
  try random.seed(seed)
  return try drawNoiseMatrix(
    K: K, trace: trace, maxTraceProb: maxTraceProb, minTraceProb: minTraceProb,
    maxNoiseRate: maxNoiseRate, minNoiseRate: minNoiseRate, validNoiseMatrix: validNoiseMatrix,
    py: py, fracZeroNoiseRates: fracZeroNoiseRates, maxIter: maxIter,
    cancellation: cancellation, randomState: &random)
}

/// Step 1 up to the `max_iter < 1` return: the finiteness checks and cleanlab's `ValueError`s.
private func checkNoiseMatrixArguments(
  K: Int,
  trace: PythonNumber,
  maxTraceProb: PythonNumber,
  minTraceProb: Double,
  maxNoiseRate: PythonNumber,
  minNoiseRate: Double,
  validNoiseMatrix: Bool,
  py: [Double]?,
  fracZeroNoiseRates: Double
) throws(NoiseGenerationError) {
  try requireFinite(trace.value, "trace")
  try requireFinite(maxTraceProb.value, "max_trace_prob")
  try requireFinite(minTraceProb, "min_trace_prob")
  try requireFinite(maxNoiseRate.value, "max_noise_rate")
  try requireFinite(minNoiseRate, "min_noise_rate")
  try requireFinite(fracZeroNoiseRates, "frac_zero_noise_rates")

  if validNoiseMatrix && trace.value <= 1 { throw .cleanlab(.traceNotAboveOne(trace: trace)) }
  if validNoiseMatrix && py == nil && K > 2 { throw .cleanlab(.priorRequired) }
  if K <= 1 { throw .cleanlab(.tooFewClasses(K: K)) }
}

private func checkClassCount(_ K: Int) throws(NoiseGenerationError) {
  if K > NoiseMatrix.maxClasses {
    throw .invalidArgument(argument: "K", reason: "must be at most \(NoiseMatrix.maxClasses)")
  }
}

/// Steps 3 and 4, on a generator just seeded.
///
/// Every attempt draws its matrix in the array that is returned, and works in scratch made for
/// the whole call (the diagonal, a column's noise rates, the zeros per column, the row order and
/// the validity check's scratch), so an attempt allocates nothing and the accepted matrix is
/// not copied.
private func drawNoiseMatrix(
  K: Int,
  trace: PythonNumber,
  maxTraceProb: PythonNumber,
  minTraceProb: Double,
  maxNoiseRate: PythonNumber,
  minNoiseRate: Double,
  validNoiseMatrix: Bool,
  py: [Double]?,
  fracZeroNoiseRates: Double,
  maxIter: Int,
  cancellation: Cancellation,
  randomState random: inout RandomState
) throws(NoiseGenerationError) -> NoiseMatrixFromTrace {
  if K == 2 {
    if fracZeroNoiseRates >= 0.5 {
      let offDiagonal = trace.value - 1.0
      let matrix = try! NoiseMatrix(K: 2, entries: [1.0, 1 - offDiagonal, 0.0, offDiagonal])
      let keep = random.rand() > 0.5
      return NoiseMatrixFromTrace(matrix: keep ? matrix : matrix.rotated180(), iterations: 1)
    }
    return try withUnsafeTemporaryAllocation(of: Double.self, capacity: 2) {
      (diagonal) throws(NoiseGenerationError) -> NoiseMatrixFromTrace in
      try generateNRandProbabilitiesThatSumToM(
        into: diagonal, m: trace, maxProb: 1.0, minProb: 0.0, randomState: &random,
        cancellation: cancellation)
      let matrix = try! NoiseMatrix(
        K: 2, entries: [diagonal[0], 1 - diagonal[1], 1 - diagonal[0], diagonal[1]])
      return NoiseMatrixFromTrace(matrix: matrix, iterations: 1)
    }
  }

  // int(K * (K - 1) * frac): a Python int times a float, truncated toward zero.
  let zeroTarget = Double(K * (K - 1)) * fracZeroNoiseRates
  let prior = py ?? []
  var priorChecked = false
  // the attempts are drawn in the array that is returned
  var entries = [Double](repeating: 0, count: K * K)
  let doubles = 2 * K + validityScratchCount(K)
  let accepted = try entries.withUnsafeMutableBufferPointer {
    (matrix) throws(NoiseGenerationError) -> Int? in
    try withUnsafeTemporaryAllocation(of: Double.self, capacity: doubles) {
      (doubles) throws(NoiseGenerationError) -> Int? in
      try withUnsafeTemporaryAllocation(of: Int.self, capacity: K) {
        (zerosPerColumn) throws(NoiseGenerationError) -> Int? in
        try withUnsafeTemporaryAllocation(of: UInt32.self, capacity: K - 1) {
          (rowOrder) throws(NoiseGenerationError) -> Int? in
          let base = doubles.baseAddress!
          let diagonal = UnsafeMutableBufferPointer(start: base, count: K)
          let rates = UnsafeMutableBufferPointer(start: base + K, count: K)
          let validityScratch = base + 2 * K
          for attempt in 1...maxIter {
            try cancellation.check()
            if attempt > 1 { matrix.update(repeating: 0) }
            try generateNRandProbabilitiesThatSumToM(
              into: diagonal, m: trace, maxProb: maxTraceProb, minProb: minTraceProb,
              randomState: &random, cancellation: cancellation)
            var ones = 0
            for i in 0..<K {
              matrix[i * K + i] = diagonal[i]
              if diagonal[i] == 1 { ones += 1 }
            }
            let columnsWithNoise = K - ones

            guard abs(zeroTarget) < 9_223_372_036_854_775_808.0 else {
              throw .invalidArgument(
                argument: "frac_zero_noise_rates",
                reason: "int(K * (K - 1) * frac_zero_noise_rates) overflows int64"
                  + " (cleanlab raises OverflowError)")
            }
            var zeros = Int(zeroTarget) - (K - columnsWithNoise) * (K - 1)
            zeros = Swift.max(zeros, 0)
            try randomlyDistributeNBallsIntoKBins(
              N: zeros,
              into: UnsafeMutableBufferPointer(rebasing: zerosPerColumn[0..<columnsWithNoise]),
              bins: rates, maxBallsPerBin: K - 2, minBallsPerBin: 0, randomState: &random,
              cancellation: cancellation)

            var noisyColumn = 0
            for column in 0..<K where diagonal[column] != 1 {
              let count = K - 1 - zerosPerColumn[noisyColumn]
              noisyColumn += 1
              let columnRates = UnsafeMutableBufferPointer(rebasing: rates[0..<count])
              try generateNRandProbabilitiesThatSumToM(
                into: columnRates, m: .float(1 - diagonal[column]), maxProb: maxNoiseRate,
                minProb: minNoiseRate, randomState: &random, cancellation: cancellation)
              // choice([rows other than column], count, replace=False): the first `count` entries
              // of numpy's permutation(K - 1), each mapped past the diagonal; the rates are popped
              // from the end of their list into those rows in order
              try random.permutationPrefix(rowOrder, prefix: count, cancellation: cancellation)
              for t in 0..<count {
                let r = Int(rowOrder[t])
                matrix[(r < column ? r : r + 1) * K + column] = columnRates[count - 1 - t]
              }
            }

            if validNoiseMatrix {
              if !priorChecked {
                try checkPrior(prior, classes: K)
                priorChecked = true
              }
              let validity = prior.withUnsafeBufferPointer {
                noiseMatrixValidity(
                  UnsafePointer(matrix.baseAddress!), $0.baseAddress!, K: K,
                  scratch: validityScratch)
              }
              if !validity.isValid { continue }
            }
            return attempt
          }
          return nil
        }
      }
    }
  }
  guard let accepted else { return NoiseMatrixFromTrace(matrix: nil, iterations: maxIter) }
  return NoiseMatrixFromTrace(
    matrix: try! NoiseMatrix(K: K, entries: entries), iterations: accepted)
}
