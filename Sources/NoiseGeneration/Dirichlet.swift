import Glibc

extension RandomState {
  /// `np.random.dirichlet(np.ones(count))`: a uniform point on the probability simplex.
  ///
  /// numpy's legacy `dirichlet` draws one standard gamma variate per component; with shape 1 the
  /// legacy gamma is the standard exponential `-log(1 - rand())`, computed with glibc's `log`.
  /// The draws are summed left to right into `acc`, and each is then multiplied by
  /// `invacc = 1 / acc` (a multiplication, not a division, so `count == 1` may give
  /// `x * (1 / x) != 1`, exactly as numpy does).
  ///
  /// - Complexity: O(count), two `rand()` draws per component.
  /// - Returns: `count` non-negative doubles.
  /// - Throws: ``NoiseGenerationError/numpy(message:)`` for a negative count, as numpy does;
  ///   ``NoiseGenerationError/invalidArgument(argument:reason:)`` above ``maxSampleCount``.
  public mutating func dirichletOnes(count: Int) throws(NoiseGenerationError) -> [Double] {
    if count < 0 { throw .numpy(message: "negative dimensions are not allowed") }
    try Self.checkSampleCount(count, "count")
    return [Double](unsafeUninitializedCapacity: count) { buffer, initialized in
      fillDirichletOnes(buffer, scale: 1.0)
      initialized = count
    }
  }

  /// `np.random.dirichlet(np.ones(buffer.count)) * scale`, written into `buffer`: each entry is
  /// `(draw * invacc) * scale`, the two roundings numpy makes when the caller multiplies the
  /// returned array by `scale` (a `scale` of 1 changes nothing).
  @usableFromInline
  mutating func fillDirichletOnes(_ buffer: UnsafeMutableBufferPointer<Double>, scale: Double) {
    guard let out = buffer.baseAddress else { return }
    let n = buffer.count
    withWords { (c: inout MTWords) -> Void in
      c.reserve(2 * n)
      var acc = 0.0
      for j in 0..<n {
        let draw = -log(1.0 - c.nextDouble())
        out[j] = draw
        acc = acc + draw
      }
      let invacc = 1 / acc
      for j in 0..<n { out[j] = (out[j] * invacc) * scale }
    }
  }
}
