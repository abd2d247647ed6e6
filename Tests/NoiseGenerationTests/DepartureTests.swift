import Synchronization
import Testing

@testable import NoiseGeneration

/// Every documented place where the library departs from cleanlab: where cleanlab crashes,
/// returns garbage or never returns, the library throws a typed error or returns a defined
/// result.
@Suite("Departures from cleanlab")
struct DepartureTests {
  let uniform3 = try! NoiseMatrix(rows: [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]])

  @Test("a class missing from true_labels counts as 0 and gets no flips")
  func missingClass() throws {
    // cleanlab: value_counts gives 2 counts for 3 classes -> numpy broadcasting error
    let labels = [Int](repeating: 0, count: 500) + [Int](repeating: 2, count: 500)
    var random = RandomState(seed: UInt32(3))
    let result = try generateNoisyLabels(
      trueLabels: labels, noiseMatrix: uniform3, randomState: &random)
    #expect(result.labels.count == 1000)
    // class 0 and class 2 each flip int(0.1 * 0.5 * 1000) = 50 labels to each other class
    let fromZero = result.labels[0..<500].filter { $0 != 0 }.count
    let fromTwo = result.labels[500...].filter { $0 != 2 }.count
    #expect(fromZero == 100 && fromTwo == 100)
    #expect(result.numFlipped == 200)
    // the absent class still receives flips as a noisy label: 50 from each present class
    #expect(result.labels[0..<500].filter { $0 == 1 }.count == 50)
    #expect(result.labels[500...].filter { $0 == 1 }.count == 50)
  }

  @Test("empty true_labels give an empty result")
  func emptyLabels() throws {
    var random = RandomState(seed: UInt32(0))
    let result = try generateNoisyLabels(
      trueLabels: [Int](), noiseMatrix: uniform3, randomState: &random)
    #expect(result.labels.isEmpty && result.numFlipped == 0)
    #expect(random == RandomState(seed: UInt32(0)), "nothing was drawn")
  }

  @Test("labels outside 0..<K, K == 0 and non-finite matrices are typed errors")
  func invalidNoisyLabelInputs() throws {
    var random = RandomState(seed: UInt32(0))
    #expect(throws: NoiseGenerationError.self) {
      try generateNoisyLabels(trueLabels: [0, 1, 3], noiseMatrix: uniform3, randomState: &random)
    }
    #expect(throws: NoiseGenerationError.self) {
      try generateNoisyLabels(trueLabels: [0, -1], noiseMatrix: uniform3, randomState: &random)
    }
    #expect(throws: NoiseGenerationError.self) {
      try generateNoisyLabels(
        trueLabels: [0], noiseMatrix: try NoiseMatrix(rows: []), randomState: &random)
    }
    let nan = try NoiseMatrix(rows: [[.nan, 0], [0, 1]])
    #expect(throws: NoiseGenerationError.self) {
      try generateNoisyLabels(trueLabels: [0, 1], noiseMatrix: nan, randomState: &random)
    }
    #expect(throws: NoiseGenerationError.self) { try NoiseMatrix(rows: [[1, 0], [0]]) }
    #expect(throws: NoiseGenerationError.self) { try NoiseMatrix(K: 3, entries: [1, 2]) }
  }

  @Test("counts beyond int64 and negative entries give no flips, as numpy's cast does on x86-64")
  func extremeEntries() throws {
    let matrix = try NoiseMatrix(rows: [[1, 1e300], [-5, 0]])
    var random = RandomState(seed: UInt32(1))
    let labels = [0, 0, 1, 1]
    let result = try generateNoisyLabels(
      trueLabels: labels, noiseMatrix: matrix, randomState: &random)
    #expect(result.labels == labels && result.numFlipped == 0)
  }

  @Test("shape mismatches are typed errors")
  func shapes() throws {
    #expect(throws: NoiseGenerationError.self) { try noiseMatrixIsValid(uniform3, py: [0.5, 0.5]) }
    // cleanlab raises numpy's "shapes not aligned" at the first validity check
    #expect(throws: NoiseGenerationError.self) {
      try generateNoiseMatrixFromTrace(K: 4, trace: 2.0, py: [0.5, 0.5])
    }
    // but, like cleanlab, never looks at py for K == 2 or max_iter < 1
    #expect(try generateNoiseMatrixFromTrace(K: 2, trace: 1.5, py: [1, 2, 3]).matrix != nil)
    #expect(try generateNoiseMatrixFromTrace(K: 4, trace: 2.0, py: [0.5], maxIter: 0).matrix == nil)
  }

  @Test("NaN and infinite arguments are typed errors")
  func nonFinite() throws {
    for bad in [Double.nan, .infinity, -.infinity] {
      #expect(throws: NoiseGenerationError.self) {
        try generateNoiseMatrixFromTrace(K: 3, trace: .float(bad), py: [0.3, 0.3, 0.4])
      }
      #expect(throws: NoiseGenerationError.self) {
        try generateNoiseMatrixFromTrace(
          K: 3, trace: 2.0, py: [0.3, 0.3, 0.4], fracZeroNoiseRates: bad)
      }
      #expect(throws: NoiseGenerationError.self) {
        try generateNoiseMatrixFromTrace(K: 3, trace: 2.0, py: [bad, 0.3, 0.4])
      }
      var random = RandomState(seed: UInt32(0))
      #expect(throws: NoiseGenerationError.self) {
        try generateNRandProbabilitiesThatSumToM(n: 3, m: .float(bad), randomState: &random)
      }
      #expect(throws: NoiseGenerationError.self) {
        try generateNRandProbabilitiesThatSumToM(n: 3, m: 1, minProb: bad, randomState: &random)
      }
      #expect(throws: NoiseGenerationError.self) {
        try noiseMatrixIsValid(uniform3, py: [bad, 0.5, 0.5])
      }
    }
  }

  @Test("noise_matrix_is_valid: a NaN or infinite entry anywhere throws; overflow to inf does not")
  func nonFiniteValidity() throws {
    for K in [2, 3, 9, 17, 100] {
      let py = [Double](repeating: 1 / Double(K), count: K)
      for bad in [Double.nan, .infinity, -.infinity] {
        for position in Set([0, K + 1, K * K / 2, K * K - 1]) {
          var entries = [Double](repeating: 1 / Double(K), count: K * K)
          entries[position] = bad
          let matrix = try NoiseMatrix(K: K, entries: entries)
          #expect(throws: NoiseGenerationError.self, "K=\(K) [\(position)] = \(bad)") {
            try noiseMatrixIsValid(matrix, py: py)
          }
        }
      }
      // finite entries whose products with py overflow: cleanlab's sum is inf, so False
      var entries = [Double](repeating: 1 / Double(K), count: K * K)
      entries[K * K - 1] = .greatestFiniteMagnitude
      let huge = try NoiseMatrix(K: K, entries: entries)
      let validity = try noiseMatrixValidity(huge, py: [Double](repeating: 4, count: K))
      #expect(validity.failure == .jointDoesNotSumToOne(sum: .infinity), "K=\(K)")
    }
  }

  @Test("a K of 0 or 1 is cleanlab's ValueError for noise matrices")
  func tooFewClasses() throws {
    for K in [-5, 0, 1] {
      #expect(throws: NoiseGenerationError.cleanlab(.tooFewClasses(K: K))) {
        try generateNoiseMatrixFromTrace(K: K, trace: 2.0, validNoiseMatrix: false)
      }
    }
    // noise_matrix_is_valid returns False for K = 0 and K = 1, as cleanlab does
    #expect(try noiseMatrixIsValid(try NoiseMatrix(rows: []), py: []) == false)
    #expect(try noiseMatrixIsValid(try NoiseMatrix(rows: [[1]]), py: [1]) == false)
  }

  @Test("negative counts, K = 0 bins and max_balls_per_bin = 0 are typed errors")
  func ballsDomain() throws {
    var random = RandomState(seed: UInt32(0))
    // cleanlab returns [-1, -1] here and [-5, -5, -5] for N=-5, K=3
    #expect(throws: NoiseGenerationError.self) {
      try randomlyDistributeNBallsIntoKBins(N: 5, K: 2, maxBallsPerBin: -1, randomState: &random)
    }
    #expect(throws: NoiseGenerationError.self) {
      try randomlyDistributeNBallsIntoKBins(N: -5, K: 3, randomState: &random)
    }
    #expect(throws: NoiseGenerationError.self) {
      try randomlyDistributeNBallsIntoKBins(N: 5, K: 3, minBallsPerBin: -2, randomState: &random)
    }
    // ZeroDivisionError in cleanlab
    #expect(throws: NoiseGenerationError.self) {
      try randomlyDistributeNBallsIntoKBins(N: 5, K: 0, randomState: &random)
    }
    #expect(throws: NoiseGenerationError.self) {
      try randomlyDistributeNBallsIntoKBins(N: 5, K: 2, maxBallsPerBin: 0, randomState: &random)
    }
    #expect(throws: NoiseGenerationError.self) {
      try randomlyDistributeNBallsIntoKBins(N: Int.max, K: 2, randomState: &random)
    }
    // N = 0 returns K zeros without drawing, K = 0 included
    #expect(try randomlyDistributeNBallsIntoKBins(N: 0, K: 0, randomState: &random) == [])
  }

  @Test("frac_zero_noise_rates so large that cleanlab overflows int64 is a typed error")
  func fracOverflow() throws {
    #expect(throws: NoiseGenerationError.self) {
      try generateNoiseMatrixFromTrace(
        K: 3, trace: 2.0, py: [0.3, 0.3, 0.4], fracZeroNoiseRates: 1e300)
    }
  }

  @Test("the probability adjustment loops are bounded and report the bound")
  func iterationLimit() throws {
    // n=7, m=1, max_prob just above 1/7 needs several adjustment iterations with seed 3
    var unlimited = RandomState(seed: UInt32(3))
    _ = try generateNRandProbabilitiesThatSumToM(
      n: 7, m: 1.0, maxProb: 0.1428572, randomState: &unlimited)
    var limited = RandomState(seed: UInt32(3))
    #expect(
      throws: NoiseGenerationError.iterationLimitExceeded(
        function: "generate_n_rand_probabilities_that_sum_to_m", limit: 1)
    ) {
      try generateNRandProbabilitiesThatSumToM(
        n: 7, m: 1.0, maxProb: 0.1428572, randomState: &limited, iterationLimit: 1)
    }
    #expect(probabilityAdjustmentLimit >= 100_000)
  }

  @Test("a long generate_noise_matrix_from_trace call can be cancelled")
  func cancellation() throws {
    // K=1000 with a prior that makes every attempt invalid: cleanlab would try 10,000 times
    let K = 1000
    var py = [Double](repeating: 0, count: K)
    py[0] = 1
    let clock = ContinuousClock()
    let start = clock.now
    #expect(throws: NoiseGenerationError.cancelled) {
      try generateNoiseMatrixFromTrace(
        K: K, trace: 600.0, py: py, seed: 0, maxIter: 10000,
        cancellation: Cancellation(deadline: start + .milliseconds(200)))
    }
    #expect(clock.now - start < .seconds(5))

    let flag = CancelFlag()
    flag.cancel()
    var random = RandomState(seed: UInt32(0))
    #expect(throws: NoiseGenerationError.cancelled) {
      try generateNoisyLabels(
        trueLabels: [Int](repeating: 0, count: 2_000_000) + [Int](repeating: 1, count: 10),
        noiseMatrix: try NoiseMatrix(rows: [[0.5, 0.5], [0.5, 0.5]]), randomState: &random,
        cancellation: Cancellation { flag.isSet })
    }
  }
}

/// A thread-safe one-way flag for the cancellation test.
final class CancelFlag: Sendable {
  private let value = Atomic(false)
  func cancel() { value.store(true, ordering: .releasing) }
  var isSet: Bool { value.load(ordering: .acquiring) }
}
