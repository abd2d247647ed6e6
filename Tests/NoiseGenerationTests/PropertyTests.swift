import Testing

@testable import NoiseGeneration

/// 10,000 random argument sets, NaN, negative, huge and empty values among them, thrown at every
/// public function: each call must return or throw a ``NoiseGenerationError``, never trap, and
/// what it returns must satisfy the function's contract. Calls that could legitimately run long
/// get a deadline, which is part of the public API.
@Suite("Property: no public function traps")
struct PropertyTests {
  /// A small deterministic generator for the argument choices (SplitMix64).
  struct Choices {
    var state: UInt64
    mutating func next() -> UInt64 {
      state &+= 0x9e37_79b9_7f4a_7c15
      var z = state
      z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
      z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
      return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func pick<T>(_ values: [T]) -> T { values[below(values.count)] }
    mutating func unit() -> Double { Double(next() >> 11) / 9_007_199_254_740_992.0 }

    mutating func int() -> Int {
      pick([
        Int.min, -1_000_000, -3, -1, 0, 0, 1, 1, 2, 2, 3, 3, 4, 5, 7, 10, 20, 50, 99, 1000,
        1 << 40, Int.max, below(30), below(300),
      ])
    }
    mutating func double() -> Double {
      pick([
        .nan, .infinity, -.infinity, -1e300, -2, -1, -1e-9, 0, -0.0, 1e-300, 1e-6, 0.1, 0.5,
        0.99999,
        1, 1.000001, 1.5, 2, 3, 10, 1e17, 1e300, .greatestFiniteMagnitude, unit(), unit() * 5,
      ])
    }
    mutating func number() -> PythonNumber {
      below(3) == 0 ? .int(int()) : .float(double())
    }
    mutating func doubles(_ count: Int) -> [Double] {
      (0..<Swift.max(0, Swift.min(count, 5000))).map { _ in double() }
    }
    mutating func size() -> Int { pick([0, 0, 1, 2, 3, 4, 5, 8, 13, below(40)]) }
    mutating func matrix() -> NoiseMatrix {
      let K = size()
      let entries: [Double]
      switch below(3) {
      case 0:  // a proper column-stochastic matrix
        var m = [Double](repeating: 0, count: K * K)
        for c in 0..<K {
          var column = (0..<K).map { _ in unit() + 1e-3 }
          column[c] += Double(K)
          let total = column.reduce(0, +)
          for r in 0..<K { m[r * K + c] = column[r] / total }
        }
        entries = m
      case 1: entries = (0..<(K * K)).map { _ in unit() }
      default: entries = doubles(K * K)
      }
      return try! NoiseMatrix(K: K, entries: entries)
    }
  }

  static let deadline = Duration.milliseconds(100)

  @Test("10,000 random argument sets: every call returns or throws, results meet the contract")
  func randomArguments() throws {
    var choices = Choices(state: 0x5eed)
    var returned = 0
    var threw = 0
    let clock = ContinuousClock()
    for call in 0..<10_000 {
      let cancellation = Cancellation(deadline: clock.now + Self.deadline)
      do {
        try exercise(call, &choices, cancellation)
        returned += 1
      } catch is NoiseGenerationError {
        threw += 1
      } catch {
        Issue.record("untyped error \(error)")
      }
    }
    print("property test: 10,000 calls, \(returned) returned, \(threw) threw typed errors")
    #expect(returned + threw == 10_000)
    #expect(returned > 1_000 && threw > 1_000, "both outcomes are exercised")
  }

  func exercise(_ call: Int, _ choices: inout Choices, _ cancellation: Cancellation) throws {
    switch call % 6 {
    case 0:
      let K = choices.size() &+ (choices.below(4) == 0 ? choices.int() : 0)
      let py: [Double]? =
        choices.below(4) == 0 ? nil : choices.doubles(choices.below(2) == 0 ? K : choices.size())
      let result = try generateNoiseMatrixFromTrace(
        K: K, trace: choices.number(), maxTraceProb: choices.number(),
        minTraceProb: choices.double(), maxNoiseRate: choices.number(),
        minNoiseRate: choices.double(), validNoiseMatrix: choices.below(2) == 0, py: py,
        fracZeroNoiseRates: choices.double(), seed: choices.int(),
        maxIter: choices.pick([0, 1, 2, 5, 50, choices.int()]), cancellation: cancellation)
      if let matrix = result.matrix { #expect(matrix.K == K && matrix.entries.count == K * K) }
    case 1:
      var random = RandomState(seed: UInt32(truncatingIfNeeded: choices.next()))
      let n = choices.below(3) == 0 ? choices.int() : choices.size()
      let result = try generateNRandProbabilitiesThatSumToM(
        n: n, m: choices.number(), maxProb: choices.number(), minProb: choices.double(),
        randomState: &random, cancellation: cancellation)
      #expect(result.count == Swift.max(n, 0))
    case 2:
      var random = RandomState(seed: UInt32(truncatingIfNeeded: choices.next()))
      let N = choices.int()
      let K = choices.below(3) == 0 ? choices.int() : choices.size()
      let result = try randomlyDistributeNBallsIntoKBins(
        N: N, K: K, maxBallsPerBin: choices.below(2) == 0 ? nil : choices.int(),
        minBallsPerBin: choices.below(2) == 0 ? nil : choices.int(), randomState: &random,
        cancellation: cancellation)
      #expect(result.count == K)
      #expect(result.reduce(0, +) <= N || N == 0)
    case 3:
      let matrix = choices.matrix()
      let labelCount = choices.pick([0, 1, 5, 100, 1000])
      let labels = (0..<labelCount).map { _ in
        choices.below(50) == 0 ? choices.int() : choices.below(Swift.max(matrix.K, 1))
      }
      var random = RandomState(seed: UInt32(truncatingIfNeeded: choices.next()))
      let result = try generateNoisyLabels(
        trueLabels: labels, noiseMatrix: matrix, randomState: &random, cancellation: cancellation)
      #expect(result.labels.count == labels.count)
      #expect(result.labels.allSatisfy { $0 >= 0 && $0 < matrix.K })
      #expect(zip(result.labels, labels).filter { $0 != $1 }.count == result.numFlipped)
    case 4:
      let matrix = choices.matrix()
      let py = choices.doubles(choices.below(3) == 0 ? choices.size() : matrix.K)
      _ = try noiseMatrixValidity(matrix, py: py)
    default:
      var random = try RandomState(seed: choices.int())
      let size = choices.int()
      switch choices.below(4) {
      case 0:
        _ = try random.choice(
          classes: choices.size(), size: size < 1_000_000 ? size : choices.pick([size, 1000]),
          p: choices.doubles(choices.size())
        )
      case 1: _ = try random.choice(Array(0..<choices.size()), size: size)
      case 2: _ = try random.permutation(size < 1_000_000 ? size : choices.pick([size, 1000]))
      default:
        _ = try random.dirichletOnes(count: size < 1_000_000 ? size : choices.pick([size, 1000]))
      }
    }
  }
}

@Suite("Extrema trackers")
struct ExtremaTests {
  /// First-index argmin and argmax by a plain scan, the reference both trackers must match.
  static func naive(_ values: [Double]) -> (min: Int, max: Int) {
    var (minIndex, maxIndex) = (0, 0)
    for i in values.indices {
      if values[i] < values[minIndex] { minIndex = i }
      if values[i] > values[maxIndex] { maxIndex = i }
    }
    return (minIndex, maxIndex)
  }

  @Test(
    "Linear and block-tree trackers agree with a scan through 2,000 changes, ties included",
    arguments: [1, 2, 63, 64, 65, 1000, 1024, 4097])
  func trackersAgree(count: Int) {
    var choices = PropertyTests.Choices(state: UInt64(count))
    // Few distinct values, so ties are everywhere.
    var values = (0..<count).map { _ in Double(choices.below(8)) }
    var reference = values
    values.withUnsafeMutableBufferPointer { buffer in
      var linear = LinearExtrema(buffer)
      var tree = BlockTreeExtrema(buffer)
      for _ in 0..<2000 {
        let expected = Self.naive(reference)
        #expect(linear.minIndex() == expected.min)
        #expect(linear.maxIndex() == expected.max)
        #expect(tree.minIndex() == expected.min)
        #expect(tree.maxIndex() == expected.max)
        let i = choices.below(count)
        let v = Double(choices.below(10)) - 1
        buffer[i] = v
        reference[i] = v
        linear.changed(at: i)
        tree.changed(at: i)
      }
    }
  }

  @Test("6 MiB of noisy labels: the returned array (advised as huge pages) equals caller memory")
  func largeNoisyLabelsOutput() throws {
    // 786,432 Int64 labels: the output holds at least one whole aligned 2 MiB page
    let n = 3 << 18
    var choices = PropertyTests.Choices(state: 21)
    let labels = (0..<n).map { _ in Int64(choices.below(10)) }
    let matrix = try #require(
      try generateNoiseMatrixFromTrace(
        K: 10, trace: .float(4), validNoiseMatrix: false, py: nil, seed: 3
      ).matrix)
    var first = RandomState(seed: UInt32(5))
    let returned = try generateNoisyLabels(
      trueLabels: labels, noiseMatrix: matrix, randomState: &first)
    var second = RandomState(seed: UInt32(5))
    var owned = [Int64](repeating: -1, count: n)
    let flipped = try labels.withUnsafeBufferPointer { input in
      try owned.withUnsafeMutableBufferPointer { output in
        try generateNoisyLabels(
          trueLabels: input, into: output, noiseMatrix: matrix, randomState: &second)
      }
    }
    // counts, not the arrays: a failure would print millions of elements
    #expect(zip(returned.labels, owned).filter { $0 != $1 }.count == 0)
    #expect(returned.labels.count == n)
    #expect(returned.numFlipped == flipped)
    #expect(flipped == zip(labels, owned).filter { $0 != $1 }.count)
    #expect(flipped > n / 2)

    // the advice never changes memory that was already written
    var pattern = (0..<n).map { UInt64(truncatingIfNeeded: $0 &* 2_654_435_761) }
    let before = pattern
    pattern.withUnsafeMutableBytes { adviseHugePages($0) }
    #expect(zip(pattern, before).filter { $0 != $1 }.count == 0)
  }

  @Test("classes on both sides of the fused-marking limit agree with cleanlab's steps, transcribed")
  func noisyLabelsAgainstTranscription() throws {
    // class 0 above NoisyLabelPlan.fusedMarkingLimit (marked in a second pass), the others below
    let n = NoisyLabelPlan.fusedMarkingLimit * 3 / 2
    var choices = PropertyTests.Choices(state: 8)
    let labels = (0..<n).map { _ in choices.below(10) < 8 ? 0 : 1 + choices.below(3) }
    #expect(labels.filter { $0 == 0 }.count > NoisyLabelPlan.fusedMarkingLimit)
    let matrix = try #require(
      try generateNoiseMatrixFromTrace(
        K: 4, trace: .float(2.2), validNoiseMatrix: false, py: nil, seed: 4
      ).matrix)
    for seed in [UInt32(0), 9] {
      var random = RandomState(seed: seed)
      let got = try generateNoisyLabels(
        trueLabels: labels, noiseMatrix: matrix, randomState: &random)
      // cleanlab, step by step: for each class, its noise list, then choice(positions of k,
      // len(noise), replace=False), which is positions[permutation(count)[:len(noise)]]
      var reference = RandomState(seed: seed)
      var expected = labels
      for k in 0..<4 {
        let positions = labels.indices.filter { labels[$0] == k }
        let prior = Double(positions.count) / Double(n)
        var noise: [Int] = []
        for i in 0..<4 where i != k {
          noise += Array(repeating: i, count: Int((matrix[i, k] * prior) * Double(n)))
        }
        guard !noise.isEmpty, positions.count >= noise.count else { continue }
        let order = try reference.permutation(positions.count)
        for (t, label) in noise.enumerated() { expected[positions[order[t]]] = label }
      }
      #expect(zip(got.labels, expected).filter { $0 != $1 }.count == 0, "seed \(seed)")
      #expect(got.numFlipped == zip(labels, expected).filter { $0 != $1 }.count)
      #expect(random == reference)
    }
  }

  @Test("Balls into 2**20 bins: counts sum to N through the block-tree path")
  func largeBallsCorrection() throws {
    var state = RandomState(seed: UInt32(7))
    let K = 1 << 20
    let counts = try randomlyDistributeNBallsIntoKBins(
      N: 3 * K + 12_345, K: K, randomState: &state)
    #expect(counts.count == K)
    #expect(counts.reduce(0, +) == 3 * K + 12_345)
  }
}
