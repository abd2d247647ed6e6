// libFuzzer target: the NoiseGeneration public functions with fuzzed parameters. Every call must
// return or throw a NoiseGenerationError; results must meet their contracts.
import FuzzSupport
import NoiseGeneration

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  var b = FuzzSupport.Bytes(data, size)
  let deadline = Cancellation(deadline: .now + .milliseconds(100))
  func number() -> PythonNumber { b.byte() % 3 == 0 ? .int(b.int(-3...50)) : .float(b.double()) }
  do {
    switch b.byte() % 6 {
    case 0:
      let K = b.int(-2...40)
      let py: [Double]? = b.byte() % 4 == 0 ? nil : (0..<b.int(0...41)).map { _ in b.double() }
      let result = try generateNoiseMatrixFromTrace(
        K: K, trace: number(), maxTraceProb: number(), minTraceProb: b.double(),
        maxNoiseRate: number(), minNoiseRate: b.double(), validNoiseMatrix: b.byte() % 2 == 0,
        py: py, fracZeroNoiseRates: b.double(), seed: b.int(-1...Int(UInt32.max) + 1),
        maxIter: b.int(-1...50), cancellation: deadline)
      if let matrix = result.matrix { precondition(matrix.entries.count == K * K) }
    case 1:
      var random = RandomState(seed: UInt32(truncatingIfNeeded: b.int(0...Int(UInt32.max))))
      let n = b.int(-3...200)
      let values = try generateNRandProbabilitiesThatSumToM(
        n: n, m: number(), maxProb: number(), minProb: b.double(), randomState: &random,
        cancellation: deadline)
      precondition(values.count == n)
    case 2:
      var random = RandomState(seed: UInt32(truncatingIfNeeded: b.int(0...Int(UInt32.max))))
      let N = b.byte() % 8 == 0 ? Int.max - b.int(0...3) : b.int(-5...100_000)
      let K = b.int(-2...300)
      let counts = try randomlyDistributeNBallsIntoKBins(
        N: N, K: K, maxBallsPerBin: b.byte() % 2 == 0 ? nil : b.int(-2...1000),
        minBallsPerBin: b.byte() % 2 == 0 ? nil : b.int(-2...1000), randomState: &random,
        cancellation: deadline)
      precondition(counts.count == K)
    case 3:
      let K = b.int(0...12)
      let matrix = try NoiseMatrix(K: K, entries: (0..<(K * K)).map { _ in b.double() })
      let labels = (0..<b.int(0...3000)).map { _ in b.int(-1...K) }
      var random = RandomState(seed: UInt32(truncatingIfNeeded: b.int(0...Int(UInt32.max))))
      let result = try generateNoisyLabels(
        trueLabels: labels, noiseMatrix: matrix, randomState: &random, cancellation: deadline)
      precondition(result.labels.count == labels.count)
    case 4:
      let K = b.int(0...12)
      let matrix = try NoiseMatrix(K: K, entries: (0..<(K * K)).map { _ in b.double() })
      _ = try noiseMatrixValidity(matrix, py: (0..<b.int(0...13)).map { _ in b.double() })
    default:
      var random = try RandomState(seed: b.int(-1...Int(UInt32.max)))
      let count = b.int(-2...5000)
      _ = try random.permutation(count)
      _ = try random.dirichletOnes(count: Swift.max(count, 0))
      _ = try random.choice(
        classes: b.int(-1...20), size: b.int(-1...100),
        p: (0..<b.int(0...21)).map { _ in b.double() })
    }
  } catch {
    // every failure is a typed NoiseGenerationError (the functions use typed throws)
  }
  return 0
}
