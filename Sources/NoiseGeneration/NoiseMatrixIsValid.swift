/// Why ``noiseMatrixValidity(_:py:)`` judged a matrix not learnable.
public enum NoiseMatrixInvalidity: Equatable, Sendable {
  /// The joint `noise_matrix * py` does not sum to 1 within 1e-6 (`FLOATING_POINT_COMPARISON`).
  /// This is what happens when the columns or `py` do not sum to 1.
  case jointDoesNotSumToOne(sum: Double)
  /// For class `k`, `p(label=k) * p(true_label=k) < p(label=k, true_label=k)` fails:
  /// the noise makes class `k` no more likely to keep its label than chance.
  case notLearnable(classIndex: Int, marginalProduct: Double, joint: Double)
}

/// The outcome of ``noiseMatrixValidity(_:py:)``: cleanlab's boolean and, when false, the first
/// condition that failed.
public struct NoiseMatrixValidity: Equatable, Sendable {
  /// What `noise_matrix_is_valid` returns.
  public var isValid: Bool { failure == nil }
  /// The first failing check, in cleanlab's order; nil when the matrix is valid.
  public var failure: NoiseMatrixInvalidity?
}

/// cleanlab's `noise_matrix_is_valid(noise_matrix, py)`: whether learning with this noise is
/// possible, that is, better than chance on average.
///
/// cleanlab's contract: with `ps = noise_matrix @ py` and `joint = noise_matrix * py`, the matrix
/// is valid when `|joint.sum() - 1| < 1e-6` and, for every class `i` in order,
/// `ps[i] * py[i] < joint[i][i]`. Both computations reproduce numpy's rounding: `joint.sum()` is
/// numpy's pairwise sum over the flattened matrix, and `ps` is OpenBLAS's `dgemv` (see
/// `openBLASMatrixVector`).
///
/// Departures from cleanlab: the `verbose` printing is not reproduced; a matrix that is not
/// `K×K` for `K = py.count` throws instead of raising numpy's broadcasting error; NaN or infinite
/// entries throw instead of returning false.
///
/// - Complexity: O(K²).
/// - Throws: ``NoiseGenerationError/shapeMismatch(argument:expected:actual:)`` or
///   ``NoiseGenerationError/invalidArgument(argument:reason:)``.
public func noiseMatrixValidity(_ noiseMatrix: NoiseMatrix, py: [Double])
  throws(NoiseGenerationError) -> NoiseMatrixValidity
{
  try checkPrior(py, classes: noiseMatrix.K)
  let validity = unsafeNoiseMatrixValidity(noiseMatrix, py: py)
  // A NaN or infinite entry makes the joint's sum NaN or infinite (the prior is finite), so
  // only then can the matrix hold one.
  if case .jointDoesNotSumToOne(let sum) = validity.failure, !sum.isFinite {
    try checkFinite(noiseMatrix)
  }
  return validity
}

/// cleanlab's `noise_matrix_is_valid(noise_matrix, py)`, returning its boolean.
///
/// See ``noiseMatrixValidity(_:py:)`` for the contract and departures.
public func noiseMatrixIsValid(_ noiseMatrix: NoiseMatrix, py: [Double])
  throws(NoiseGenerationError) -> Bool
{
  try noiseMatrixValidity(noiseMatrix, py: py).isValid
}

func checkPrior(_ py: [Double], classes K: Int) throws(NoiseGenerationError) {
  guard py.count == K else {
    throw .shapeMismatch(argument: "py", expected: "(\(K),)", actual: "(\(py.count),)")
  }
  if !py.withUnsafeBufferPointer(allFinite), let bad = py.firstIndex(where: { !$0.isFinite }) {
    throw .invalidArgument(argument: "py", reason: "entry \(bad) is \(py[bad]), not finite")
  }
}

@usableFromInline
func checkFinite(_ noiseMatrix: NoiseMatrix) throws(NoiseGenerationError) {
  if noiseMatrix.entries.withUnsafeBufferPointer(allFinite) { return }
  if let bad = noiseMatrix.entries.firstIndex(where: { !$0.isFinite }) {
    let K = noiseMatrix.K
    throw .invalidArgument(
      argument: "noise_matrix",
      reason: "entry [\(bad / K)][\(bad % K)] is \(noiseMatrix.entries[bad]), not finite")
  }
}

/// The validity check on arguments of matching shapes, the prior finite. A NaN or infinite
/// matrix entry gives `.jointDoesNotSumToOne` with a sum that is not finite.
func unsafeNoiseMatrixValidity(_ noiseMatrix: NoiseMatrix, py: [Double]) -> NoiseMatrixValidity {
  let K = noiseMatrix.K
  // An empty joint sums to 0, so cleanlab returns False for K == 0.
  guard K > 0 else { return NoiseMatrixValidity(failure: .jointDoesNotSumToOne(sum: 0)) }
  return noiseMatrix.entries.withUnsafeBufferPointer { matrix in
    py.withUnsafeBufferPointer { prior in
      withUnsafeTemporaryAllocation(of: Double.self, capacity: validityScratchCount(K)) {
        noiseMatrixValidity(
          matrix.baseAddress!, prior.baseAddress!, K: K, scratch: $0.baseAddress!)
      }
    }
  }
}

/// How many doubles of scratch ``noiseMatrixValidity(_:_:K:scratch:)`` needs.
func validityScratchCount(_ K: Int) -> Int { 2 * K + 7 }

/// The validity check on a row-major `K×K` matrix `m` (`K > 0`) and a finite prior `p`, with
/// `validityScratchCount(K)` doubles of scratch for the tiled prior and `ps`.
///
/// `joint = np.multiply(noise_matrix, py)` is never stored: its sum multiplies the entries as
/// it reads them (``numpyScaledRowsSum(_:tiledPrior:K:)``), and the diagonal is recomputed, with
/// the same roundings. A matrix entry that is NaN or infinite makes the sum so, and the check
/// stops there.
func noiseMatrixValidity(
  _ m: UnsafePointer<Double>, _ p: UnsafePointer<Double>, K: Int,
  scratch: UnsafeMutablePointer<Double>
) -> NoiseMatrixValidity {
  let tiledPrior = scratch
  tiledPrior.update(from: p, count: K)
  for i in K..<(K + 7) { tiledPrior[i] = tiledPrior[i - K] }
  let total = numpyScaledRowsSum(m, tiledPrior: tiledPrior, K: K)
  if !(abs(total - 1.0) < floatingPointComparison) {
    return NoiseMatrixValidity(failure: .jointDoesNotSumToOne(sum: total))
  }
  let ps = scratch + K + 7
  openBLASMatrixVector(m, p, K: K, into: ps)
  for i in 0..<K {
    let product = ps[i] * p[i]
    let diagonal = m[i * K + i] * p[i]
    if !(product < diagonal) {
      return NoiseMatrixValidity(
        failure: .notLearnable(classIndex: i, marginalProduct: product, joint: diagonal))
    }
  }
  return NoiseMatrixValidity(failure: nil)
}

/// cleanlab's `FLOATING_POINT_COMPARISON`.
let floatingPointComparison = 1e-6
