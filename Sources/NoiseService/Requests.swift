import NoiseGeneration

/// `POST /noise-matrix`: the arguments of `generate_noise_matrix_from_trace`, with cleanlab's
/// defaults.
public struct NoiseMatrixRequest: Sendable, Equatable {
  public var K: Int
  public var trace: PythonNumber
  public var maxTraceProb: PythonNumber = 1.0
  public var minTraceProb: Double = 1e-5
  public var maxNoiseRate: PythonNumber = .float(1 - 1e-5)
  public var minNoiseRate: Double = 0.0
  public var validNoiseMatrix = true
  public var py: [Double]?
  public var fracZeroNoiseRates: Double = 0.0
  public var seed: Int = 0
  public var maxIter: Int = 10000

  public static let fields = [
    "K", "trace", "max_trace_prob", "min_trace_prob", "max_noise_rate", "min_noise_rate",
    "valid_noise_matrix", "py", "frac_zero_noise_rates", "seed", "max_iter",
  ]
}

/// `POST /noisy-labels`: `np.random.seed(seed); generate_noisy_labels(true_labels, noise_matrix)`.
public struct NoisyLabelsRequest: Sendable {
  public var trueLabels: [Int32]
  public var noiseMatrix: [Double]
  /// Rows and columns of `noiseMatrix` as sent (validated to be square by the handler).
  public var rows: Int
  public var columns: Int
  public var seed: Int = 0

  public static let fields = ["true_labels", "noise_matrix", "seed"]
}

/// `POST /validate`: `noise_matrix_is_valid(noise_matrix, py)`.
public struct ValidateRequest: Sendable {
  public var noiseMatrix: [Double]
  public var rows: Int
  public var columns: Int
  public var py: [Double]

  public static let fields = ["noise_matrix", "py"]
}

/// `POST /probabilities`: `np.random.seed(seed); generate_n_rand_probabilities_that_sum_to_m(...)`.
public struct ProbabilitiesRequest: Sendable, Equatable {
  public var n: Int
  public var m: PythonNumber
  public var maxProb: PythonNumber = 1.0
  public var minProb: Double = 0.0
  public var seed: Int = 0

  public static let fields = ["n", "m", "max_prob", "min_prob", "seed"]
}

/// `POST /balls-into-bins`: `np.random.seed(seed); randomly_distribute_N_balls_into_K_bins(...)`.
public struct BallsRequest: Sendable, Equatable {
  public var N: Int
  public var K: Int
  public var maxBallsPerBin: Int?
  public var minBallsPerBin: Int?
  public var seed: Int = 0

  public static let fields = ["N", "K", "max_balls_per_bin", "min_balls_per_bin", "seed"]
}

// MARK: work estimates

/// A deterministic estimate of a request's work from its decoded arguments, in units of about
/// one label, matrix entry or output value (a few nanoseconds each). It decides whether a
/// request needs a compute slot before it starts (see ``Admission``) and bounds `/batch`.
/// Iterations (`max_iter`, adjustment loops) are not counted: a request that keeps iterating
/// takes a slot once it has run for ``Admission/lightTime``.
func squareWork(_ k: Int) -> Int {
  let bounded = Swift.min(Swift.max(k, 1), 1 << 20)
  return bounded * bounded
}

extension NoiseMatrixRequest {
  /// One attempt builds and checks a K×K matrix; a few attempts are typical.
  var work: Int { squareWork(K) * Swift.max(1, Swift.min(maxIter, 10)) }
}

extension NoisyLabelsRequest {
  var work: Int { trueLabels.count + noiseMatrix.count }
}

extension ValidateRequest {
  var work: Int { noiseMatrix.count }
}

extension ProbabilitiesRequest {
  var work: Int { Swift.max(n, 1) }
}

extension BallsRequest {
  var work: Int { Swift.max(K, 1) }
}
