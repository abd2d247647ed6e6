import Testing

@testable import NoiseGeneration

@Suite("RandomState")
struct RandomStateTests {
  @Test("copies are independent generators (value semantics)")
  func valueSemantics() throws {
    var a = RandomState(seed: UInt32(42))
    _ = a.rand()
    var b = a
    let fromA = (0..<1000).map { _ in a.nextUInt32() }
    let fromB = (0..<1000).map { _ in b.nextUInt32() }
    #expect(fromA == fromB)
    _ = a.rand()
    #expect(a != b)
  }

  @Test("seed(_:) gives the state of a fresh RandomState(seed:), copies untouched")
  func reseed() throws {
    var a = RandomState(seed: UInt32(3))
    for _ in 0..<1000 { _ = a.nextUInt32() }
    let copy = a
    try a.seed(42)
    var fresh = RandomState(seed: UInt32(42))
    #expect(a == fresh)
    #expect((0..<700).map { _ in a.nextUInt32() } == (0..<700).map { _ in fresh.nextUInt32() })
    var reference = RandomState(seed: UInt32(3))
    for _ in 0..<1000 { _ = reference.nextUInt32() }
    #expect(copy == reference)

    let before = a
    #expect(throws: NoiseGenerationError.self) { try a.seed(-1) }
    #expect(throws: NoiseGenerationError.self) { try a.seed(1 << 32) }
    #expect(a == before)
  }

  @Test("get_state / set_state round trip at every kind of position")
  func stateRoundTrip() throws {
    for draws in [0, 1, 30, 226, 227, 500, 623, 624, 625, 1300] {
      var original = RandomState(seed: UInt32(7))
      for _ in 0..<draws { _ = original.nextUInt32() }
      var restored = try RandomState(key: original.stateKey, position: original.statePosition)
      #expect(restored == original, "after \(draws) draws")
      let next = (0..<2000).map { _ in original.nextUInt32() }
      #expect((0..<2000).map { _ in restored.nextUInt32() } == next, "after \(draws) draws")
    }
    #expect(throws: NoiseGenerationError.self) { try RandomState(key: [1, 2, 3], position: 0) }
    #expect(throws: NoiseGenerationError.self) {
      try RandomState(key: [UInt32](repeating: 0, count: 624), position: 625)
    }
  }

  @Test("lazy seeding: any mix of small and bulk draws gives the same stream")
  func lazySeeding() throws {
    var reference = RandomState(seed: UInt32(99))
    var words = [UInt32]()
    for _ in 0..<3000 { words.append(reference.nextUInt32()) }
    for split in [1, 5, 64, 200, 400, 623, 624, 700] {
      var random = RandomState(seed: UInt32(99))
      var got = (0..<split).map { _ in random.nextUInt32() }
      // a bulk consumer (the permutation kernel) takes whole blocks from here on
      var buffer = [UInt32](repeating: 0, count: 50)
      try buffer.withUnsafeMutableBufferPointer { try random.permutationPrefix($0, prefix: 50) }
      var again = RandomState(seed: UInt32(99))
      for _ in 0..<split { _ = again.nextUInt32() }
      let perm = try again.permutation(50)
      #expect(buffer.map { Int($0) } == perm, "split \(split)")
      #expect(random == again, "split \(split)")
      got.append(random.nextUInt32())
      #expect(got.last == again.nextUInt32())
      #expect(got.prefix(split) == words.prefix(split))
    }
  }

  @Test("skipPermutation advances exactly as the permutation does, at any offset and size")
  func skipPermutation() throws {
    // sizes around powers of two (mask changes), small ones (groups judged word by word), and
    // one spanning many blocks; offsets put the start anywhere in a block
    let sizes = [0, 1, 2, 3, 16, 17, 31, 33, 255, 256, 257, 1000, 4097, 65_537, 300_000]
    for (index, size) in sizes.enumerated() {
      for offset in [0, 7, 600] {
        var skipped = RandomState(seed: UInt32(1000 + index))
        for _ in 0..<offset { _ = skipped.nextUInt32() }
        var drawn = skipped
        skipped.skipPermutation(size)
        // numpy's shuffle, step by step: one random_interval(i) for i from size - 1 down to 1
        drawn.withWords { (words: inout MTWords) -> Void in
          var i = size - 1
          while i > 0 {
            _ = words.interval(UInt64(i))
            i -= 1
          }
        }
        #expect(skipped == drawn, "size \(size), offset \(offset)")
        #expect(skipped.nextUInt32() == drawn.nextUInt32(), "size \(size), offset \(offset)")
      }
    }
  }

  @Test("PrefixMarks labels the same ranks as the kept indices, with the same draws")
  func prefixMarks() throws {
    // (count, run lengths): whole and partial prefixes, one position, empty runs, many blocks
    let cases: [(Int, [Int])] = [
      (1, [1]), (2, [1, 1]), (2, [0, 1]), (3, [1]), (5, [2, 0, 3]), (17, [4, 4, 4]),
      (100, [60, 0, 0, 1]), (1000, [1, 998, 1]), (4097, [100, 2000, 7]), (70_000, [35_000, 0]),
    ]
    for (index, (count, lengths)) in cases.enumerated() {
      let prefix = lengths.reduce(0, +)
      let labels = lengths.indices.map { UInt8(2 * $0 + 1) }
      var kept = RandomState(seed: UInt32(77 + index))
      var marked = kept
      var indices = [UInt32](repeating: 0, count: count)
      try indices.withUnsafeMutableBufferPointer {
        try kept.permutationPrefix($0, prefix: prefix)
      }
      var expected = [UInt8](repeating: 0, count: count)
      var position = 0
      for (length, label) in zip(lengths, labels) {
        for _ in 0..<length {
          expected[Int(indices[position])] = label
          position += 1
        }
      }
      var marks = [UInt8](repeating: 0, count: count)
      var scratch = [UInt32](repeating: 0, count: count)
      try marks.withUnsafeMutableBufferPointer { marksBuffer in
        var output = PrefixMarks(
          marks: marksBuffer.baseAddress!, lengths: lengths, labels: labels)
        try scratch.withUnsafeMutableBufferPointer {
          try marked.permutationPrefix($0, prefix: prefix, into: &output)
        }
      }
      #expect(marks == expected, "count \(count), runs \(lengths)")
      #expect(marked == kept, "count \(count), runs \(lengths)")
    }
  }

  @Test("random_interval uses 64-bit draws above 2**32 - 1, high half first")
  func interval64() throws {
    var a = RandomState(seed: UInt32(5))
    var b = RandomState(seed: UInt32(5))
    let max: UInt64 = 1 << 40
    let value = a.randomInterval(max)
    // reproduce: masked 64-bit draws, rejected above max
    var expected: UInt64
    repeat {
      expected = b.nextUInt64() & ((1 << 41) - 1)
    } while expected > max
    #expect(value == expected)
    #expect(a == b)
    #expect(a.randomInterval(0) == 0 && a == b, "max 0 draws nothing")
  }

  @Test("the joint's sum, multiplied as read, equals numpy's sum of the stored product")
  func scaledRowsSum() throws {
    var random = RandomState(seed: UInt32(11))
    for K in Array(1...40) + [63, 64, 65, 100, 127, 128, 129, 300, 1000] {
      let m = try random.randomSample(count: K * K)
      let p = try random.randomSample(count: K).map { $0 * 3 - 1 }
      let joint = (0..<(K * K)).map { m[$0] * p[$0 % K] }
      let expected = joint.withUnsafeBufferPointer { numpySum($0.baseAddress!, count: K * K) }
      let tiled = (0..<(K + 7)).map { p[$0 % K] }
      let fused = m.withUnsafeBufferPointer { m in
        tiled.withUnsafeBufferPointer {
          numpyScaledRowsSum(m.baseAddress!, tiledPrior: $0.baseAddress!, K: K)
        }
      }
      #expect(fused.bitPattern == expected.bitPattern, "K=\(K)")
    }
  }

  @Test("sampling sizes are bounded instead of exhausting memory")
  func sampleCaps() throws {
    var random = RandomState(seed: UInt32(0))
    #expect(throws: NoiseGenerationError.self) { try random.randomSample(count: Int.max) }
    #expect(throws: NoiseGenerationError.self) { try random.dirichletOnes(count: -1) }
    #expect(throws: NoiseGenerationError.self) { try random.permutation(Int.max) }
    #expect(throws: NoiseGenerationError.self) {
      try random.choice(classes: 2, size: Int.max, p: [0.5, 0.5])
    }
    #expect(try random.permutation(-3) == [])
  }
}
