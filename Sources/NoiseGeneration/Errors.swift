/// Everything a NoiseGeneration function can throw.
///
/// Two kinds of error exist:
/// - ``cleanlab(_:)`` and ``numpy(_:)`` are the `ValueError`s that cleanlab 2.9.0 (or the numpy
///   call it makes) raises for the same arguments, carrying the same message.
/// - The other cases are where this library departs from cleanlab: where cleanlab would crash
///   with an unrelated exception (a broadcasting error, `ZeroDivisionError`, `OverflowError`),
///   return garbage (NaN arguments, negative counts), or never return (unbounded loops).
public enum NoiseGenerationError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A `ValueError` raised by cleanlab's own code, with cleanlab's message.
  case cleanlab(CleanlabValueError)
  /// A `ValueError` raised by numpy for the same call, with numpy's message.
  case numpy(message: String)
  /// An argument outside the domain in which cleanlab returns a meaningful result.
  case invalidArgument(argument: String, reason: String)
  /// Arrays whose shapes do not fit together.
  case shapeMismatch(argument: String, expected: String, actual: String)
  /// A loop that cleanlab leaves unbounded ran past this library's bound.
  case iterationLimitExceeded(function: String, limit: Int)
  /// The caller's ``Cancellation`` asked the computation to stop.
  case cancelled

  /// A one-line, human-readable explanation.
  public var message: String {
    switch self {
    case .cleanlab(let error): return error.message
    case .numpy(let message): return message
    case .invalidArgument(let argument, let reason): return "\(argument): \(reason)"
    case .shapeMismatch(let argument, let expected, let actual):
      return "\(argument) has shape \(actual), expected \(expected)"
    case .iterationLimitExceeded(let function, let limit):
      return "\(function) did not converge within \(limit) adjustment iterations"
        + " (cleanlab would run for minutes here, or forever)"
    case .cancelled: return "the computation was cancelled"
    }
  }

  public var description: String { message }
}

/// The `ValueError`s raised inside `cleanlab/benchmarking/noise_generation.py`.
///
/// ``message`` reproduces cleanlab's text character for character, including the quirk that the
/// `min_prob` message reports `max_prob`.
public enum CleanlabValueError: Equatable, Sendable {
  /// `generate_noise_matrix_from_trace`: `valid_noise_matrix` with `trace <= 1`.
  case traceNotAboveOne(trace: PythonNumber)
  /// `generate_noise_matrix_from_trace`: `valid_noise_matrix` with `py is None` and `K > 2`.
  case priorRequired
  /// `generate_noise_matrix_from_trace`: `K <= 1`.
  case tooFewClasses(K: Int)
  /// `generate_n_rand_probabilities_that_sum_to_m`: `max_prob + 1e-6 < m / n`.
  case maxProbBelowMean(maxProb: PythonNumber, m: PythonNumber, n: Int)
  /// `generate_n_rand_probabilities_that_sum_to_m`: `min_prob > (m + 1e-6) / n`.
  case minProbAboveMean(maxProb: PythonNumber, m: PythonNumber, n: Int)

  /// cleanlab's message for this error.
  public var message: String {
    switch self {
    case .traceNotAboveOne(let trace):
      return "trace = \(trace.pythonString). trace > 1 is necessary for a"
        + " valid noise matrix to be returned (valid_noise_matrix == True)"
    case .priorRequired:
      return "py must be provided (not None) if the input parameter valid_noise_matrix == True"
    case .tooFewClasses(let K):
      return "K must be >= 2, but K = \(K)."
    case .maxProbBelowMean(let maxProb, let m, let n):
      return "max_prob must be greater or equal to m / n, but "
        + Self.details(maxProb: maxProb, m: m, n: n)
    case .minProbAboveMean(let maxProb, let m, let n):
      return "min_prob must be less or equal to m / n, but "
        + Self.details(maxProb: maxProb, m: m, n: n)
    }
  }

  private static func details(maxProb: PythonNumber, m: PythonNumber, n: Int) -> String {
    let mean = PythonNumber.float(m.value / Double(n))
    return "max_prob = \(maxProb.pythonString), m = \(m.pythonString), n = \(n)"
      + ", m / n = \(mean.pythonString)"
  }
}

/// A cooperative stop signal for long computations.
///
/// Functions that can run long (`generateNoiseMatrixFromTrace` with a large `maxIter`, the
/// adjustment loops of `generateNRandProbabilitiesThatSumToM`, `generateNoisyLabels` on large
/// inputs) consult it between iterations and throw ``NoiseGenerationError/cancelled`` once it
/// reports true.
public struct Cancellation: Sendable {
  @usableFromInline let probe: (@Sendable () -> Bool)?

  /// Never cancels.
  public static let none = Cancellation(probe: nil)

  /// Cancels when `isCancelled` returns true. It is called often; keep it cheap.
  public init(_ isCancelled: @escaping @Sendable () -> Bool) { probe = isCancelled }

  /// Cancels once `deadline` has passed.
  public init(deadline: ContinuousClock.Instant) {
    probe = { ContinuousClock.now >= deadline }
  }

  private init(probe: (@Sendable () -> Bool)?) { self.probe = probe }

  /// Whether the computation should stop now.
  @inlinable public var isCancelled: Bool { probe?() ?? false }

  /// Throws ``NoiseGenerationError/cancelled`` when ``isCancelled``.
  @inlinable public func check() throws(NoiseGenerationError) {
    if let probe, probe() { throw .cancelled }
  }
}
