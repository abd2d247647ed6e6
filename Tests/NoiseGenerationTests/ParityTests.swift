import Foundation
import Testing

@testable import NoiseGeneration

/// Bit-for-bit parity with cleanlab 2.9.0 and numpy, case by case, from the committed fixtures.
@Suite("Parity with cleanlab 2.9.0 fixtures")
struct ParityTests {
  @Test("every fixture file is bit-identical", arguments: Fixtures.files)
  func fixtureFile(_ name: String) throws {
    let cases = try Fixtures.cases(name)
    for (index, fixture) in cases.enumerated() {
      let context =
        "\(name)[\(index)] \(fixture["kind"] ?? "") \(fixture["label"] ?? fixture["name"] ?? "")"
      try check(fixture, context)
    }
    print("parity \(name): \(cases.count) cases bit-identical")
  }

  @Test("at least 1,000 fixture cases")
  func fixtureCount() throws {
    let total = try Fixtures.files.reduce(0) { $0 + (try Fixtures.cases($1).count) }
    print("parity fixtures: \(total) cases from cleanlab 2.9.0 / numpy, checked bit for bit")
    #expect(total >= 1000)
  }

  func check(_ fixture: [String: Any], _ context: String) throws {
    switch fixture["kind"] as? String {
    case "seed_state": try checkSeedState(fixture, context)
    case "seed_error":
      #expect(throws: NoiseGenerationError.numpy(message: "Seed must be between 0 and 2**32 - 1")) {
        try RandomState(seed: try fixture.int("seed"))
      }
    case "uint32":
      var random = try RandomState(seed: try fixture.int("seed"))
      let expected = try #require(fixture["values"] as? [NSNumber])
      let actual = (0..<expected.count).map { _ in random.nextUInt32() }
      #expect(actual.map { Int64($0) } == expected.map { $0.int64Value }, "\(context)")
    case "tomaxint":
      var random = try RandomState(seed: try fixture.int("seed"))
      let expected = try #require(fixture["values"] as? [NSNumber])
      let actual = (0..<expected.count).map { _ in random.nextUInt64() >> 1 }
      #expect(actual.map { Int64($0) } == expected.map { $0.int64Value }, "\(context)")
    case "rand":
      var random = try RandomState(seed: try fixture.int("seed"))
      let expected = try fixture.doubles("values")
      expectBits(try random.randomSample(count: expected.count), expected, context)
    case "dirichlet":
      var random = try RandomState(seed: try fixture.int("seed"))
      expectBits(
        try random.dirichletOnes(count: try fixture.int("n")), try fixture.doubles("values"),
        context)
      expectBits([random.rand()], [try fixture.double("after")], context + " after")
    case "permutation":
      var random = try RandomState(seed: try fixture.int("seed"))
      let n = try fixture.int("n")
      expectIntegers(try random.permutation(n), fixture["values"], context)
      // the compact kernel used by generate_noisy_labels must agree with the public one
      var compact = try RandomState(seed: try fixture.int("seed"))
      var buffer = [UInt32](repeating: 0, count: n)
      try buffer.withUnsafeMutableBufferPointer { try compact.permuteIdentity($0) }
      expectIntegers(buffer, fixture["values"], context + " (compact)")
      #expect(compact.rand().bitPattern == random.rand().bitPattern, "\(context): compact state")
      var again = try RandomState(seed: try fixture.int("seed"))
      _ = try again.permutation(n)
      expectBits([again.rand()], [try fixture.double("after")], context + " after")
    case "choice": try checkChoice(fixture, context)
    case "choice_p": try checkChoiceWithP(fixture, context)
    case "repr":
      let values = try #require(fixture["values"] as? [String]).map { try decodeDouble($0) }
      let reprs = try #require(fixture["reprs"] as? [String])
      for (value, text) in zip(values, reprs) {
        #expect(pythonRepr(value) == text, "\(context): \(value.bitPattern)")
      }
    case "dot_seeded": try checkDot(fixture, context)
    case "sum_seeded":
      var random = try RandomState(seed: try fixture.int("seed"))
      let n = try fixture.int("n")
      let draws = try random.randomSample(count: n)
      let scale = random.rand()
      let values = draws.map { $0 * scale }
      let total = values.withUnsafeBufferPointer { numpySum($0.baseAddress!, count: n) }
      expectBits([total], [try fixture.double("result")], context)
    case "validity": try checkValidity(fixture, context)
    case "probabilities": try checkProbabilities(fixture, context)
    case "balls": try checkBalls(fixture, context)
    case "noise_matrix": try checkNoiseMatrix(fixture, context)
    case "noisy_labels": try checkNoisyLabels(fixture, context)
    case "cleanlab_test": try CleanlabBehaviour.check(fixture, context)
    default: Issue.record("\(context): unknown fixture kind")
    }
  }

  func checkSeedState(_ fixture: [String: Any], _ context: String) throws {
    let random = try RandomState(seed: try fixture.int("seed"))
    expectIntegers(random.stateKey, fixture["key"], context)
    #expect(random.statePosition == (try fixture.int("pos")), "\(context)")
  }

  func checkChoice(_ fixture: [String: Any], _ context: String) throws {
    var random = try RandomState(seed: try fixture.int("seed"))
    let a = try #require(fixture["a"] as? [Int])
    let size = try fixture.int("size")
    do {
      let values = try random.choice(a, size: size)
      #expect(fixture.error == nil, "\(context): numpy raised \(fixture.error ?? [:])")
      expectIntegers(values, fixture["values"], context)
      expectBits([random.rand()], [try fixture.double("after")], context + " after")
    } catch {
      let recorded = try #require(fixture.error, "\(context): threw \(error)")
      expectMatchingError(error, recorded, context)
    }
  }

  func checkChoiceWithP(_ fixture: [String: Any], _ context: String) throws {
    var random = try RandomState(seed: try fixture.int("seed"))
    do {
      let values = try random.choice(
        classes: try fixture.int("K"), size: try fixture.int("size"), p: try fixture.doubles("p"))
      #expect(fixture.error == nil, "\(context): numpy raised \(fixture.error ?? [:])")
      expectIntegers(values, fixture["values"], context)
      expectBits([random.rand()], [try fixture.double("after")], context + " after")
    } catch {
      let recorded = try #require(fixture.error, "\(context): threw \(error)")
      expectMatchingError(error, recorded, context)
    }
  }

  func checkDot(_ fixture: [String: Any], _ context: String) throws {
    let K = try fixture.int("K")
    var random = try RandomState(seed: try fixture.int("seed"))
    let scale = try fixture.double("scale")
    var matrix = try random.randomSample(count: K * K).map { $0 * scale }
    if fixture["zeros"] as? Bool == true {
      let mask = try random.randomSample(count: K * K)
      for i in 0..<(K * K) where mask[i] < 0.5 { matrix[i] = 0 }
    }
    let x = try random.randomSample(count: K)
    let y = matrix.withUnsafeBufferPointer { m in
      x.withUnsafeBufferPointer { openBLASMatrixVector(m.baseAddress!, $0.baseAddress!, K: K) }
    }
    expectBits(y, try fixture.doubles("result"), context)
  }

  func checkValidity(_ fixture: [String: Any], _ context: String) throws {
    let rows = try fixture.matrix("noise_matrix")
    let py = try fixture.doubles("py")
    do {
      let valid = try noiseMatrixIsValid(try NoiseMatrix(rows: rows), py: py)
      #expect(fixture.error == nil, "\(context): cleanlab raised")
      #expect(valid == (fixture["valid"] as? Bool), "\(context)")
    } catch {
      let recorded = try #require(fixture.error, "\(context): threw \(error)")
      expectMatchingError(error, recorded, context)
    }
  }

  func checkProbabilities(_ fixture: [String: Any], _ context: String) throws {
    var random = try RandomState(seed: try fixture.int("seed"))
    do {
      let result = try generateNRandProbabilitiesThatSumToM(
        n: try fixture.int("n"), m: try fixture.number("m"),
        maxProb: fixture["max_prob"] == nil ? 1.0 : try fixture.number("max_prob"),
        minProb: fixture["min_prob"] == nil ? 0.0 : try fixture.double("min_prob"),
        randomState: &random)
      #expect(fixture.error == nil, "\(context): cleanlab raised \(fixture.error ?? [:])")
      expectBits(result, try fixture.doubles("result"), context)
      expectBits([random.rand()], [try fixture.double("after")], context + " after")
    } catch {
      let recorded = try #require(fixture.error, "\(context): threw \(error)")
      expectMatchingError(error, recorded, context)
    }
  }

  func checkBalls(_ fixture: [String: Any], _ context: String) throws {
    var random = try RandomState(seed: try fixture.int("seed"))
    do {
      let result = try randomlyDistributeNBallsIntoKBins(
        N: try fixture.int("N"), K: try fixture.int("K"),
        maxBallsPerBin: try fixture.optionalInt("max_balls_per_bin"),
        minBallsPerBin: try fixture.optionalInt("min_balls_per_bin"), randomState: &random)
      #expect(fixture.error == nil, "\(context): cleanlab raised \(fixture.error ?? [:])")
      expectIntegers(result, fixture["result"], context)
      expectBits([random.rand()], [try fixture.double("after")], context + " after")
    } catch {
      let recorded = try #require(fixture.error, "\(context): threw \(error)")
      expectMatchingError(error, recorded, context)
    }
  }

  func checkNoiseMatrix(_ fixture: [String: Any], _ context: String) throws {
    var random = RandomState(seed: UInt32(0))
    do {
      let outcome = try generateNoiseMatrixFromTrace(
        K: try fixture.int("K"), trace: try fixture.number("trace"),
        maxTraceProb: fixture["max_trace_prob"] == nil ? 1.0 : try fixture.number("max_trace_prob"),
        minTraceProb: fixture["min_trace_prob"] == nil
          ? 1e-5 : try fixture.double("min_trace_prob"),
        maxNoiseRate: fixture["max_noise_rate"] == nil
          ? .float(1 - 1e-5) : try fixture.number("max_noise_rate"),
        minNoiseRate: fixture["min_noise_rate"] == nil ? 0.0 : try fixture.double("min_noise_rate"),
        validNoiseMatrix: fixture["valid_noise_matrix"] as? Bool ?? true,
        py: fixture["py"] == nil ? nil : try fixture.doubles("py"),
        fracZeroNoiseRates: fixture["frac_zero_noise_rates"] == nil
          ? 0.0 : try fixture.double("frac_zero_noise_rates"),
        seed: try fixture.optionalInt("seed") ?? 0,
        maxIter: try fixture.optionalInt("max_iter") ?? 10000,
        cancellation: .none, randomState: &random)
      #expect(fixture.error == nil, "\(context): cleanlab raised \(fixture.error ?? [:])")
      if fixture["result"] is NSNull {
        #expect(outcome.matrix == nil, "\(context): cleanlab returned None")
      } else {
        let expected = try fixture.matrix("result")
        let matrix = try #require(outcome.matrix, "\(context): cleanlab returned a matrix")
        expectBits(matrix.entries, expected.flatMap { $0 }, context)
      }
      if let after = fixture["after"], !(after is NSNull) {
        expectBits([random.rand()], [try decodeDouble(after)], context + " after")
      }
    } catch {
      let recorded = try #require(fixture.error, "\(context): threw \(error)")
      expectMatchingError(error, recorded, context)
    }
  }

  func checkNoisyLabels(_ fixture: [String: Any], _ context: String) throws {
    let K = try fixture.int("K")
    let N = try fixture.int("N")
    var labelSource = try RandomState(seed: try fixture.int("seed_true"))
    let trueLabels = try labelSource.choice(classes: K, size: N, p: try fixture.doubles("py"))
    expectIntegers(trueLabels, fixture["true_labels"], context + " true labels")
    let matrix = try NoiseMatrix(rows: try fixture.matrix("noise_matrix"))
    switch try fixture.string("dtype") {
    case "int8": try checkNoisyLabels(trueLabels, as: Int8.self, matrix, fixture, context)
    case "uint8": try checkNoisyLabels(trueLabels, as: UInt8.self, matrix, fixture, context)
    case "int16": try checkNoisyLabels(trueLabels, as: Int16.self, matrix, fixture, context)
    case "uint16": try checkNoisyLabels(trueLabels, as: UInt16.self, matrix, fixture, context)
    case "int32": try checkNoisyLabels(trueLabels, as: Int32.self, matrix, fixture, context)
    case "uint32": try checkNoisyLabels(trueLabels, as: UInt32.self, matrix, fixture, context)
    case "uint64": try checkNoisyLabels(trueLabels, as: UInt64.self, matrix, fixture, context)
    default: try checkNoisyLabels(trueLabels, as: Int.self, matrix, fixture, context)
    }
  }

  func checkNoisyLabels<Label: FixedWidthInteger & Sendable>(
    _ labels: [Int], as type: Label.Type, _ matrix: NoiseMatrix, _ fixture: [String: Any],
    _ context: String
  ) throws {
    let typed = labels.map { Label($0) }
    var random = try RandomState(seed: try fixture.int("seed"))
    let result = try generateNoisyLabels(
      trueLabels: typed, noiseMatrix: matrix, randomState: &random)
    #expect(fixture.error == nil, "\(context): cleanlab raised \(fixture.error ?? [:])")
    expectIntegers(result.labels, fixture["result"], context)
    #expect(result.numFlipped == (try fixture.int("num_flipped")), "\(context): num_flipped")
    let flips = zip(result.labels, typed).enumerated().filter { $1.0 != $1.1 }.map(\.offset)
    #expect(
      Array(flips.prefix(40)) == (fixture["first_flips"] as? [Int]), "\(context): first flips")
    expectBits([random.rand()], [try fixture.double("after")], context + " after")
  }
}
