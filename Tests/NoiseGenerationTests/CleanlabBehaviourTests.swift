import Foundation
import Testing

@testable import NoiseGeneration

/// The behaviours cleanlab's own `tests/test_noise_generation.py` checks, replayed against the
/// library: the same assertions as cleanlab's tests, plus bit-identity with the values cleanlab
/// 2.9.0 produced for the same seeds (recorded in `cleanlab_tests.json`).
enum CleanlabBehaviour {
  static func check(_ fixture: [String: Any], _ context: String) throws {
    let name = try fixture.string("name")
    let result = fixture["result"]
    switch name {
    case "main_pipeline": try mainPipeline(fixture, context)
    case let name where name.hasPrefix("invalid_inputs_verify") || name == "invalid_matrix":
      let (matrix, py): ([[Double]], [Double]) =
        switch name {
        case "invalid_inputs_verify_1": ([[0.2, 0.5], [0.8, 0.5]], [0.1, 0.8])
        case "invalid_inputs_verify_2": ([[0.2, 0.5], [0.8, 0.4]], [0.1, 0.9])
        case "invalid_inputs_verify_3": ([[0.2, 0.5], [0.8, 0.4]], [0.1, 0.8])
        default: ([[0.1, 0.9], [0.9, 0.1]], [0.1, 0.9])
        }
      let valid = try noiseMatrixIsValid(try NoiseMatrix(rows: matrix), py: py)
      #expect(valid == false, "\(context)")
      #expect(valid == (result as? Bool), "\(context)")
    case "trace_less_than_1_error":
      expectCleanlab("trace > 1", fixture, context) {
        _ = try generateNoiseMatrixFromTrace(K: 3, trace: 0.5)
      }
    case "trace_equals_1_error":
      expectCleanlab("trace > 1", fixture, context) {
        _ = try generateNoiseMatrixFromTrace(K: 3, trace: 1)
      }
    case "valid_no_py_error":
      expectCleanlab("py must be", fixture, context) {
        _ = try generateNoiseMatrixFromTrace(K: 3, trace: 2, validNoiseMatrix: true)
      }
    case "one_class_error":
      expectCleanlab("must be >= 2", fixture, context) {
        _ = try generateNoiseMatrixFromTrace(K: 1, trace: 2)
      }
    case "one_class_error_trace_1":
      expectCleanlab("", fixture, context) { _ = try generateNoiseMatrixFromTrace(K: 1, trace: 1) }
    case "two_class_nofraczero":
      let matrix = try #require(try generateNoiseMatrixFromTrace(K: 2, trace: 1.1).matrix)
      #expect(!matrix.entries.contains(0), "\(context): no zero noise rate")
      #expect(abs(1.1 - (matrix[0, 0] + matrix[1, 1])) < 1e-2, "\(context)")
      try expectMatrix(matrix, result, context)
    case "two_class_fraczero_high", "two_class_fraczero_high_valid":
      let matrix = try #require(
        try generateNoiseMatrixFromTrace(
          K: 2, trace: 1.8, validNoiseMatrix: name.hasSuffix("valid"), fracZeroNoiseRates: 0.75
        ).matrix)
      #expect(matrix.entries.contains(0), "\(context): a zero noise rate")
      #expect(abs(1.8 - (matrix[0, 0] + matrix[1, 1])) < 1e-2, "\(context)")
      try expectMatrix(matrix, result, context)
    case "gen_probs_sum_empty":
      var random = RandomState(seed: UInt32(0))
      #expect(try generateNRandProbabilitiesThatSumToM(n: 0, m: 1, randomState: &random).isEmpty)
    case "gen_probs_max_error":
      var random = RandomState(seed: UInt32(0))
      expectCleanlab("max_prob must be greater", fixture, context) {
        _ = try generateNRandProbabilitiesThatSumToM(n: 5, m: 1, maxProb: 0.1, randomState: &random)
      }
    case "gen_probs_min_error":
      var random = RandomState(seed: UInt32(0))
      expectCleanlab("min_prob must be less", fixture, context) {
        _ = try generateNRandProbabilitiesThatSumToM(n: 5, m: 1, minProb: 0.9, randomState: &random)
      }
    case "probs_min_max":
      var random = RandomState(seed: UInt32(0))
      let values = try generateNRandProbabilitiesThatSumToM(
        n: 2, m: 1, maxProb: 0.5, minProb: 0.5, randomState: &random)
      expectBits(values, try (result as? [Any] ?? []).map(decodeDouble), context)
    case "probs_min_max_n5":
      var random = RandomState(seed: UInt32(0))
      expectCleanlab("", fixture, context) {
        _ = try generateNRandProbabilitiesThatSumToM(
          n: 5, m: 1, maxProb: 0.5, minProb: 0.5, randomState: &random)
      }
    case "balls_zero":
      var random = RandomState(seed: UInt32(0))
      let bins = try randomlyDistributeNBallsIntoKBins(N: 0, K: 3, randomState: &random)
      #expect(bins.count == 3 && bins.reduce(0, +) == 0, "\(context)")
      expectIntegers(bins, result, context)
    case "balls_params":
      var random = RandomState(seed: UInt32(0))
      let mx = try fixture.optionalInt("max_balls_per_bin")
      let mn = try fixture.optionalInt("min_balls_per_bin")
      let bins = try randomlyDistributeNBallsIntoKBins(
        N: 10, K: 10, maxBallsPerBin: mx, minBallsPerBin: mn, randomState: &random)
      #expect(bins.reduce(0, +) == 10 && bins.count == 10, "\(context)")
      #expect(bins.min()! <= (mn ?? 10), "\(context)")
      expectIntegers(bins, result, context)
    case "max_iter":
      let py = [Double](repeating: 1 / 3.0, count: 3)
      let matrix = try #require(
        try generateNoiseMatrixFromTrace(
          K: 3, trace: 2, validNoiseMatrix: true, py: py, seed: 1, maxIter: 1
        )
        .matrix)
      #expect(abs(matrix[0, 0] + matrix[1, 1] + matrix[2, 2] - 2) < 1e-6, "\(context)")
      try expectMatrix(matrix, result, context)
    case "max_iter_0":
      let outcome = try generateNoiseMatrixFromTrace(
        K: 3, trace: 2, validNoiseMatrix: true, py: [0.1, 0.1, 0.8], maxIter: 0)
      #expect(outcome.matrix == nil && result is NSNull, "\(context)")
    default:
      Issue.record("\(context): unknown cleanlab test \(name)")
    }
  }

  static func mainPipeline(_ fixture: [String: Any], _ context: String) throws {
    let py = [0.1, 0.1, 0.2, 0.6]
    let frac = try fixture.double("frac_zero_noise_rates")
    let trueLabels = try #require(fixture["true_labels"] as? [Int])
    let expected = try #require(fixture["result"] as? [String: Any])
    let matrix = try #require(
      try generateNoiseMatrixFromTrace(
        K: 4, trace: 1.5, validNoiseMatrix: true, py: py, fracZeroNoiseRates: frac, seed: 0
      ).matrix)
    // cleanlab's assertions
    let trace = (0..<4).reduce(0.0) { $0 + matrix[$1, $1] }
    #expect(abs(1.5 - trace) < 1e-2, "\(context)")
    #expect(abs(matrix.entries.reduce(0, +) - 4) < 1e-4, "\(context)")
    for column in 0..<4 {
      #expect(abs((0..<4).reduce(0.0) { $0 + matrix[$1, column] } - 1) < 1e-4, "\(context)")
    }
    #expect(try noiseMatrixIsValid(matrix, py: py), "\(context)")
    // and bit-identity with what cleanlab returned
    let rows = try #require(expected["noise_matrix"] as? [[Any]]).map { try $0.map(decodeDouble) }
    expectBits(matrix.entries, rows.flatMap { $0 }, context)
    var random = RandomState(seed: UInt32(0))
    let noisy = try generateNoisyLabels(
      trueLabels: trueLabels, noiseMatrix: matrix, randomState: &random)
    expectIntegers(noisy.labels, expected["noisy_labels"], context)
    #expect((expected["valid"] as? Bool) == true)
  }

  static func expectMatrix(_ matrix: NoiseMatrix, _ recorded: Any?, _ context: String) throws {
    let rows = try #require(recorded as? [[Any]]).map { try $0.map(decodeDouble) }
    expectBits(matrix.entries, rows.flatMap { $0 }, context)
  }

  /// cleanlab raised a ValueError containing `fragment`; the library must throw the same text.
  static func expectCleanlab(
    _ fragment: String, _ fixture: [String: Any], _ context: String,
    _ body: () throws -> Void
  ) {
    do {
      try body()
      Issue.record("\(context): expected a ValueError")
    } catch let error as NoiseGenerationError {
      guard let recorded = fixture.error else {
        Issue.record("\(context): cleanlab did not raise, library threw \(error)")
        return
      }
      if !fragment.isEmpty { #expect(error.message.contains(fragment), "\(context)") }
      expectMatchingError(error, recorded, context)
    } catch {
      Issue.record("\(context): untyped error \(error)")
    }
  }
}
