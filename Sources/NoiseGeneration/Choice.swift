extension RandomState {
  /// `np.random.choice(classes, size, p=p)` (with replacement): draws class indices from a
  /// discrete distribution. Benchmark harnesses use it to draw true labels from class priors.
  ///
  /// numpy validates `p` first (same length as the population, no NaN, no negative entry, a
  /// Kahan-compensated sum within `sqrt(eps)` of 1), then builds the cumulative sum left to right,
  /// divides it by its last element, draws `size` uniforms with ``rand()`` and maps each through
  /// `searchsorted(u, side="right")`: the number of cumulative entries not above `u`.
  ///
  /// - Complexity: O(classes + size · log classes).
  /// - Throws: ``NoiseGenerationError/numpy(message:)`` with numpy's message for an invalid `p`,
  ///   a non-positive population with `size > 0`, or a negative `size`.
  public mutating func choice(classes: Int, size: Int, p: [Double]) throws(NoiseGenerationError)
    -> [Int]
  {
    if classes <= 0 && size != 0 {
      throw .numpy(message: "a must be greater than 0 unless no samples are taken")
    }
    if p.count != classes { throw .numpy(message: "'a' and 'p' must have same size") }
    let total = kahanSum(p)
    if total.isNaN { throw .numpy(message: "probabilities contain NaN") }
    if p.contains(where: { $0 < 0 }) {
      throw .numpy(message: "probabilities are not non-negative")
    }
    let atol = Double.ulpOfOne.squareRoot()
    if abs(total - 1.0) > atol { throw .numpy(message: "probabilities do not sum to 1") }
    if size < 0 { throw .numpy(message: "negative dimensions are not allowed") }
    try Self.checkSampleCount(size, "size")

    var cdf = [Double](repeating: 0, count: classes)
    var running = 0.0
    for k in 0..<classes {
      running = running + p[k]
      cdf[k] = running
    }
    let last = cdf[classes - 1]
    for k in 0..<classes { cdf[k] = cdf[k] / last }

    return withWords { (c: inout MTWords) -> [Int] in
      [Int](unsafeUninitializedCapacity: size) { out, initialized in
        cdf.withUnsafeBufferPointer { table in
          for s in 0..<size {
            out[s] = searchSortedRight(table, c.nextDouble())
          }
        }
        initialized = size
      }
    }
  }
}

/// numpy's `kahan_sum` from `numpy/random/_common.pyx`, used to check that `p` sums to 1.
func kahanSum(_ values: [Double]) -> Double {
  guard var sum = values.first else { return 0.0 }
  var compensation = 0.0
  for value in values.dropFirst() {
    let y = value - compensation
    let t = sum + y
    compensation = (t - sum) - y
    sum = t
  }
  return sum
}

/// `np.searchsorted(sorted, key, side="right")`: the first index whose entry is above `key`.
@inline(__always)
func searchSortedRight(_ sorted: UnsafeBufferPointer<Double>, _ key: Double) -> Int {
  var low = 0
  var high = sorted.count
  while low < high {
    let mid = low + (high - low) / 2
    if sorted[mid] <= key { low = mid + 1 } else { high = mid }
  }
  return low
}
