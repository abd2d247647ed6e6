// Times NoiseGeneration on the workloads of bench/library_vs_cleanlab.py.
//
// Usage: noise-generation-bench <workload> <calls> <K> [N] [trace] [frac_zero_noise_rates]
//          [threads]
//   matrix     generate_noise_matrix_from_trace(K, trace, py=uniform,
//              frac_zero_noise_rates=frac, seed=call)
//   validate   noise_matrix_is_valid(M, uniform) for the matrix generated with seed 1
//   labels     generate_noisy_labels(true_labels, M) with the generator seeded by the call
//              number; true_labels = choice(K, N, p=uniform) after seed 12345, held as Int32;
//              M generated with seed 7; threads (default 1) is passed to it
//   labels-u8  the same with the labels held as UInt8, as the service receives them from the
//              Python client for K <= 256
//
// Prints one JSON line with per-call times (best, median, mean, and every call in order) and a
// checksum of every output, which the Python script compares with the checksum of cleanlab's
// outputs for the same seeds: the same formula, sum over calls c of (c * 0x9E3779B97F4A7C15 + 1)
// * sum over entries i of (i * 2654435761 + 1) * bits(entry i), modulo 2**64, where bits is the
// IEEE-754 pattern of a double or the value of an integer.
import Glibc
import NoiseGeneration

struct Checksum {
  var value: UInt64 = 0
  var calls: UInt64 = 0

  mutating func add<S: Sequence>(call words: S) where S.Element == UInt64 {
    var sum: UInt64 = 0
    var i: UInt64 = 0
    for word in words {
      sum = sum &+ (i &* 2_654_435_761 &+ 1) &* word
      i &+= 1
    }
    value = value &+ (calls &* 0x9e37_79b9_7f4a_7c15 &+ 1) &* sum
    calls &+= 1
  }

  /// `add(call:)` for integer labels. Converting them here rather than in a closure written at
  /// top level matters: such closures are MainActor-isolated in Swift 6, and an executor check
  /// per element took most of this program's time for 10 million labels (outside the timed
  /// region, but seconds per run).
  mutating func add<L: FixedWidthInteger>(labels: [L]) {
    add(call: labels.lazy.map { UInt64(truncatingIfNeeded: $0) })
  }
}

/// Times `body(call)` for each call; `check` digests its result outside the timed region.
func time<T>(
  _ calls: Int, _ body: (Int) throws -> T, check: (T) -> Void
) rethrows -> [Double] {
  var samples: [Double] = []
  let clock = ContinuousClock()
  for call in 0..<calls {
    let start = clock.now
    let result = try body(call)
    let elapsed = clock.now - start
    check(result)
    samples.append(
      Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
  }
  return samples
}

let arguments = CommandLine.arguments
guard arguments.count >= 4, let calls = Int(arguments[2]), let K = Int(arguments[3]) else {
  print(
    "usage: noise-generation-bench <workload> <calls> <K> [N] [trace] [frac_zero_noise_rates]"
      + " [threads]")
  exit(2)
}
let workload = arguments[1]
let N = arguments.count > 4 ? Int(arguments[4]) ?? 0 : 0
let trace = arguments.count > 5 ? Double(arguments[5]) ?? 2 : 2
let frac = arguments.count > 6 ? Double(arguments[6]) ?? 0 : 0
let threads = arguments.count > 7 ? Int(arguments[7]) ?? 1 : 1
let py = [Double](repeating: 1.0 / Double(K), count: K)
var checksum = Checksum()
var samples: [Double]
var attempts = 0

/// The labels workloads, with the true labels held as `Label`.
@MainActor func timeLabels<Label: FixedWidthInteger & Sendable>(_: Label.Type) throws -> [Double] {
  var source = RandomState(seed: UInt32(12345))
  let trueLabels = try source.choice(classes: K, size: N, p: py).map { Label($0) }
  let matrix = try generateNoiseMatrixFromTrace(
    K: K, trace: .float(trace), validNoiseMatrix: false, py: py, seed: 7
  ).matrix!
  return try time(calls) { seed in
    var random = RandomState(seed: UInt32(seed))
    return try generateNoisyLabels(
      trueLabels: trueLabels, noiseMatrix: matrix, randomState: &random, threads: threads)
  } check: {
    checksum.add(labels: $0.labels)
  }
}

switch workload {
case "matrix":
  samples = try time(calls) { seed in
    try generateNoiseMatrixFromTrace(
      K: K, trace: .float(trace), py: py, fracZeroNoiseRates: frac, seed: seed)
  } check: { result in
    attempts += result.iterations
    checksum.add(call: (result.matrix?.entries ?? []).map(\.bitPattern))
  }
case "validate":
  let matrix = try generateNoiseMatrixFromTrace(
    K: K, trace: .float(trace), py: py, fracZeroNoiseRates: frac, seed: 1
  ).matrix!
  samples = try time(calls) { _ in
    try noiseMatrixIsValid(matrix, py: py)
  } check: {
    checksum.add(call: [$0 ? 1 : 0])
  }
case "labels":
  samples = try timeLabels(Int32.self)
case "labels-u8":
  samples = try timeLabels(UInt8.self)
default:
  print("unknown workload \(workload)")
  exit(2)
}

let sorted = samples.sorted()
print(
  "{\"workload\": \"\(workload)\", \"K\": \(K), \"N\": \(N), \"calls\": \(calls),"
    + " \"threads\": \(threads), \"samples\": \(samples),"
    + " \"best\": \(sorted[0]), \"median\": \(sorted[sorted.count / 2]),"
    + " \"mean\": \(samples.reduce(0, +) / Double(samples.count)),"
    + " \"attempts\": \(attempts), \"checksum\": \"\(String(checksum.value, radix: 16))\"}")
