import Glibc
import Synchronization
import Testing

@testable import NoiseGeneration

/// `generate_noisy_labels` with `threads: 2` must give exactly what one thread gives: the same
/// labels, the same flip count, and the generator in the same state afterwards.
@Suite("Two threads")
struct ParallelTests {
  /// Labels in `0..<K`, drawn from weights (a zero weight leaves a class out).
  static func labels<L: FixedWidthInteger>(
    _: L.Type, count: Int, weights: [Int], seed: UInt64
  ) -> [L] {
    var choices = PropertyTests.Choices(state: seed)
    let total = weights.reduce(0, +)
    return (0..<count).map { _ in
      var r = choices.below(total)
      var k = 0
      while r >= weights[k] {
        r -= weights[k]
        k += 1
      }
      return L(k)
    }
  }

  static func matrix(K: Int, trace: Double, seed: Int) throws -> NoiseMatrix {
    try #require(
      try generateNoiseMatrixFromTrace(
        K: K, trace: .float(trace), validNoiseMatrix: false, py: nil, seed: seed
      ).matrix)
  }

  /// Runs both ways from the same seed and compares everything observable.
  static func expectSameAsOneThread<L: FixedWidthInteger & Sendable>(
    _ labels: [L], _ matrix: NoiseMatrix, seed: UInt32, _ comment: Comment
  ) throws {
    var one = RandomState(seed: seed)
    var two = RandomState(seed: seed)
    let serial = try generateNoisyLabels(trueLabels: labels, noiseMatrix: matrix, randomState: &one)
    let parallel = try generateNoisyLabels(
      trueLabels: labels, noiseMatrix: matrix, randomState: &two, threads: 2)
    // counts, not the arrays: a failure would print hundreds of thousands of elements
    #expect(zip(serial.labels, parallel.labels).filter { $0 != $1 }.count == 0, comment)
    #expect(serial.labels.count == parallel.labels.count, comment)
    #expect(serial.numFlipped == parallel.numFlipped, comment)
    #expect(one == two, comment)
    #expect(one.nextUInt32() == two.nextUInt32(), comment)
  }

  static let size = noisyLabelsParallelThreshold + 7

  /// ``size`` Int32 labels, each class of `0..<K` equally likely.
  static func uniformLabels(K: Int, seed: UInt64) -> [Int32] {
    labels(Int32.self, count: size, weights: [Int](repeating: 1, count: K), seed: seed)
  }

  @Test("same labels, flips and generator state as one thread, for K = 2 to 300")
  func sameAsOneThread() throws {
    for (K, trace) in [(2, 1.2), (3, 1.5), (10, 5.0), (10, 2.0), (40, 20.0), (300, 150.0)] {
      let labels = Self.uniformLabels(K: K, seed: UInt64(K))
      try Self.expectSameAsOneThread(
        labels, try Self.matrix(K: K, trace: trace, seed: K), seed: UInt32(K), "K \(K)")
    }
  }

  @Test("skipped, missing and lopsided classes; other label types; near the threshold")
  func unevenClasses() throws {
    // class 1 is too small for its flips (skipped), class 3 is missing, class 0 dominates
    let matrix = try Self.matrix(K: 5, trace: 2.5, seed: 11)
    let lopsided = Self.labels(UInt8.self, count: Self.size, weights: [90, 1, 5, 0, 4], seed: 3)
    try Self.expectSameAsOneThread(lopsided, matrix, seed: 5, "lopsided")
    // one flipping class: nothing to split, one thread does it all
    let single = Self.labels(Int64.self, count: Self.size, weights: [1, 0, 0, 0, 0], seed: 4)
    try Self.expectSameAsOneThread(single, matrix, seed: 6, "one class")
    // sizes around the threshold and odd tails for the lanes
    for count in [
      noisyLabelsParallelThreshold - 1, noisyLabelsParallelThreshold,
      noisyLabelsParallelThreshold + 13,
    ] {
      let labels = Self.labels(Int.self, count: count, weights: [3, 2, 2, 2, 1], seed: 9)
      try Self.expectSameAsOneThread(labels, matrix, seed: 7, "\(count) labels")
    }
  }

  @Test("a bad label or a cancellation throws as with one thread")
  func errors() throws {
    let matrix = try Self.matrix(K: 10, trace: 5, seed: 1)
    var labels = Self.uniformLabels(K: 10, seed: 8)
    var random = RandomState(seed: UInt32(1))
    #expect(throws: NoiseGenerationError.cancelled) {
      try generateNoisyLabels(
        trueLabels: labels, noiseMatrix: matrix, randomState: &random,
        cancellation: Cancellation { true }, threads: 2)
    }
    // in the second half, so that only the second thread's count finds it
    labels[Self.size - 3] = 10
    #expect(
      throws: NoiseGenerationError.invalidArgument(
        argument: "true_labels", reason: "label 10 at index \(Self.size - 3) is outside 0...9")
    ) {
      try generateNoisyLabels(
        trueLabels: labels, noiseMatrix: matrix, randomState: &random, threads: 2)
    }
  }

  @Test("concurrent callers share one helper thread; those that find it busy run alone")
  func concurrentCallers() throws {
    let matrix = try Self.matrix(K: 10, trace: 4, seed: 2)
    let labels = Self.uniformLabels(K: 10, seed: 12)
    var generator = RandomState(seed: UInt32(3))
    let expected = try generateNoisyLabels(
      trueLabels: labels, noiseMatrix: matrix, randomState: &generator)
    let reference = generator
    let mismatches = Atomic(0)
    let callers = 4
    let threads = (0..<callers).map { _ in
      startThread {
        for _ in 0..<3 {
          var random = RandomState(seed: UInt32(3))
          let result = try? generateNoisyLabels(
            trueLabels: labels, noiseMatrix: matrix, randomState: &random, threads: 2)
          if result != expected || random != reference {
            mismatches.add(1, ordering: .relaxed)
          }
        }
      }
    }
    for thread in threads { pthread_join(thread, nil) }
    #expect(mismatches.load(ordering: .relaxed) == 0)
  }

  @Test("PageFaulter touches one byte per 4 KiB page only while another worker works")
  func pageFaulter() {
    let count = 5 << 20 + 100
    let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 4096)
    defer { memory.deallocate() }
    memory.initializeMemory(as: UInt8.self, repeating: 0xff)
    // the last worker to finish finds no one working: it touches nothing
    PageFaulter(memory, workers: 1).faultWhileOthersWork()
    #expect(memory.allSatisfy { $0 == 0xff })
    // a worker that never finishes: the other touches every page, then stops
    PageFaulter(memory, workers: 2).faultWhileOthersWork()
    let touched = (0..<count).filter { memory[$0] == 0 }
    #expect(touched == Array(stride(from: 0, to: count, by: 4096)))
  }

  @Test("concurrently runs both halves, nested calls included, and publishes their writes")
  func concurrentlyRunsBoth() {
    var first = [Int](repeating: 0, count: 1000)
    var second = [Int](repeating: 0, count: 1000)
    var nested = 0
    concurrently {
      for i in 0..<1000 { first[i] = i }
      // the helper is held: this one runs both halves here
      concurrently {
        nested += 1
      } _: {
        nested += 2
      }
    } _: {
      for i in 0..<1000 { second[i] = 2 * i }
    }
    #expect(first == Array(0..<1000))
    #expect(second == (0..<1000).map { 2 * $0 })
    #expect(nested == 3)
  }
}

/// Starts `body` on a new thread; join it with `pthread_join`.
private func startThread(_ body: @escaping @Sendable () -> Void) -> pthread_t {
  final class Box: Sendable {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
  }
  var thread = pthread_t()
  let context = Unmanaged.passRetained(Box(body)).toOpaque()
  let status = pthread_create(
    &thread, nil,
    { context in
      Unmanaged<Box>.fromOpaque(context!).takeRetainedValue().body()
      return nil
    }, context)
  precondition(status == 0, "pthread_create failed")
  return thread
}
