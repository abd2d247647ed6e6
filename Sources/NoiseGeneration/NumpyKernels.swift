// Floating-point kernels whose rounding must match what numpy does on the same data.

/// `ndarray.sum()` of a float64 array: the reduction starts from the identity `+0.0` and adds the
/// pairwise sum of all elements (so an empty or all-negative-zero array sums to `+0.0`).
@usableFromInline
func numpySum(_ base: UnsafePointer<Double>, count n: Int) -> Double {
  0.0 + pairwiseSum(ContiguousTerms(base), count: n)
}

/// `np.multiply(m, p).sum()` for a C-contiguous `K×K` matrix `m` and a length-`K` vector `p`
/// (each row multiplied by `p` entry by entry), without storing the products: the same products,
/// added in the same pairwise order, as ``numpySum(_:count:)`` of the stored product.
///
/// `tiledPrior` holds `p[i % K]` for `i` in `0..<K + 7`, so that eight consecutive columns can be
/// read from any starting column without wrapping.
@usableFromInline
func numpyScaledRowsSum(
  _ m: UnsafePointer<Double>, tiledPrior: UnsafePointer<Double>, K: Int
) -> Double {
  0.0 + pairwiseSum(ScaledRowTerms(m, tiledPrior: tiledPrior, K: K), count: K * K)
}

/// Consecutive terms for ``pairwiseSum(_:count:)``, read front to back.
@usableFromInline
protocol SummandCursor {
  /// The cursor `count` terms further on.
  func advanced(by count: Int) -> Self
  /// The next eight terms, term `i` in lane `i`; moves past them.
  mutating func next8() -> SIMD8<Double>
  /// The next term; moves past it.
  mutating func next() -> Double
}

/// The values of a contiguous array.
@usableFromInline
struct ContiguousTerms: SummandCursor {
  @usableFromInline var pointer: UnsafePointer<Double>

  @inline(__always) @usableFromInline init(_ pointer: UnsafePointer<Double>) {
    self.pointer = pointer
  }

  @inline(__always) @usableFromInline func advanced(by count: Int) -> ContiguousTerms {
    ContiguousTerms(pointer + count)
  }

  @inline(__always) @usableFromInline mutating func next8() -> SIMD8<Double> {
    let terms = UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Double>.self)
    pointer += 8
    return terms
  }

  @inline(__always) @usableFromInline mutating func next() -> Double {
    let term = pointer.pointee
    pointer += 1
    return term
  }
}

/// The entries of a row-major `K×K` matrix, each multiplied by its column's entry of a vector
/// (numpy's broadcast `m * p`), computed as they are read. The column is tracked as the cursor
/// moves; only ``advanced(by:)`` divides.
@usableFromInline
struct ScaledRowTerms: SummandCursor {
  @usableFromInline var entry: UnsafePointer<Double>
  @usableFromInline var column: Int
  @usableFromInline let tiledPrior: UnsafePointer<Double>
  @usableFromInline let K: Int
  /// `8 % K`: how far eight terms move the column, modulo `K`.
  @usableFromInline let step8: Int

  @inline(__always) @usableFromInline
  init(_ m: UnsafePointer<Double>, tiledPrior: UnsafePointer<Double>, K: Int) {
    entry = m
    column = 0
    self.tiledPrior = tiledPrior
    self.K = K
    step8 = 8 % K
  }

  @inline(__always) @usableFromInline func advanced(by count: Int) -> ScaledRowTerms {
    var moved = self
    moved.entry += count
    moved.column = (column + count) % K
    return moved
  }

  @inline(__always) @usableFromInline mutating func next8() -> SIMD8<Double> {
    let values = UnsafeRawPointer(entry).loadUnaligned(as: SIMD8<Double>.self)
    let scales = UnsafeRawPointer(tiledPrior + column).loadUnaligned(as: SIMD8<Double>.self)
    entry += 8
    column += step8
    if column >= K { column -= K }
    return values * scales
  }

  @inline(__always) @usableFromInline mutating func next() -> Double {
    let term = entry.pointee * tiledPrior[column]
    entry += 1
    column += 1
    if column == K { column = 0 }
    return term
  }
}

/// numpy's pairwise summation (`DOUBLE_pairwise_sum` in `loops_utils.h.src`), which `ndarray.sum`
/// uses for float64, including the sum of a whole C-contiguous 2-D array, over the `n` terms that
/// `terms` yields.
///
/// Fewer than 8 values are added left to right from -0.0 (numpy's start, which keeps a sum of
/// negative zeros negative). Up to 128 values are added into eight
/// interleaved accumulators, combined as `((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7))`, and the tail is
/// added after. Longer runs are split at half the length rounded down to a multiple of 8, and
/// the halves summed recursively. Reference: N. J. Higham, "The accuracy of floating point
/// summation", SIAM J. Sci. Comput. 14(4), 1993.
///
/// - Complexity: O(count).
@usableFromInline
func pairwiseSum<Terms: SummandCursor>(_ terms: Terms, count n: Int) -> Double {
  var cursor = terms
  if n < 8 {
    var result = -0.0
    for _ in 0..<n { result += cursor.next() }
    return result
  }
  if n <= 128 {
    // the eight accumulators are the eight lanes of one vector: same additions, same order
    var r = cursor.next8()
    var i = 8
    let blocked = n - n % 8
    while i < blocked {
      r += cursor.next8()
      i += 8
    }
    var result = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    while i < n {
      result += cursor.next()
      i += 1
    }
    return result
  }
  var half = n / 2
  half -= half % 8
  if n <= 256 {
    // both halves are leaves: sum them side by side, so their additions overlap
    let (left, right) = pairwiseLeafPair(terms, half, terms.advanced(by: half), n - half)
    return left + right
  }
  return pairwiseSum(terms, count: half) + pairwiseSum(terms.advanced(by: half), count: n - half)
}

/// Two leaves of ``pairwiseSum(_:count:)`` (each of 8 to 128 values), summed in one loop: the
/// same additions in the same order as two separate calls, in two independent chains.
@inline(__always)
private func pairwiseLeafPair<Terms: SummandCursor>(
  _ a: Terms, _ na: Int, _ b: Terms, _ nb: Int
) -> (Double, Double) {
  var ca = a
  var cb = b
  var sa = ca.next8()
  var sb = cb.next8()
  let blockedA = na - na % 8
  let blockedB = nb - nb % 8
  let common = Swift.min(blockedA, blockedB)
  var i = 8
  while i < common {
    sa += ca.next8()
    sb += cb.next8()
    i += 8
  }
  var j = i
  while i < blockedA {
    sa += ca.next8()
    i += 8
  }
  while j < blockedB {
    sb += cb.next8()
    j += 8
  }
  var left = ((sa[0] + sa[1]) + (sa[2] + sa[3])) + ((sa[4] + sa[5]) + (sa[6] + sa[7]))
  var right = ((sb[0] + sb[1]) + (sb[2] + sb[3])) + ((sb[4] + sb[5]) + (sb[6] + sb[7]))
  while i < na {
    left += ca.next()
    i += 1
  }
  while j < nb {
    right += cb.next()
    j += 1
  }
  return (left, right)
}

/// `np.dot(A, x)` for a C-contiguous float64 `K×K` matrix `A` and a length-`K` vector, as the
/// OpenBLAS bundled with numpy wheels (`scipy-openblas` 0.3.x) computes it on x86-64 CPUs that
/// select its Haswell `dgemv_t` kernel (every AVX2 CPU, this project's machines included).
///
/// numpy hands a row-major matrix to BLAS as a transposed column-major one, so each output is a
/// dot product of one row of `A` with `x`. OpenBLAS's `dgemv_t_4.c` rounds it as follows:
/// - The length is split into a prefix that is a multiple of 4 and a tail of `K % 4` entries;
///   the prefix is processed in blocks of at most 2048 entries, each block added into `y`.
/// - Within a block, groups of four rows use the FMA micro-kernel: four lanes, lane `l`
///   accumulating entries `l, l+4, ...` with fused multiply-adds, combined as
///   `(l0 + l2) + (l1 + l3)`. The last `K % 4` rows use SSE kernels without FMA: two lanes
///   (for a pair of rows) or two pairs of lanes (for a single row), combined by `haddpd`.
/// - The tail entries are then added to each output as `y + fma(a0, x0, a1 * x1)` (with a third
///   `fma` for three entries), or `fma(a0, x0, y)` for one entry.
///
/// `noise_matrix_is_valid` compares `ps[i] * py[i] < joint[i][i]`, so the last bit of `ps[i]`
/// decides near-ties; reproducing the kernel keeps the decision identical. The emulation is
/// checked against `np.dot` in the fixtures for K up to 2047.
///
/// - Complexity: O(K²) fused multiply-adds.
@usableFromInline
func openBLASMatrixVector(_ a: UnsafePointer<Double>, _ x: UnsafePointer<Double>, K: Int)
  -> [Double]
{
  [Double](unsafeUninitializedCapacity: K) { y, initialized in
    if let out = y.baseAddress { openBLASMatrixVector(a, x, K: K, into: out) }
    initialized = K
  }
}

/// ``openBLASMatrixVector(_:_:K:)`` written into the `K` doubles at `y`.
///
/// The rows of each four-row FMA group are computed side by side, as OpenBLAS does: every lane
/// sees the same fused multiply-adds in the same order as OpenBLAS's, and the four rows' chains
/// overlap.
@usableFromInline
func openBLASMatrixVector(
  _ a: UnsafePointer<Double>, _ x: UnsafePointer<Double>, K: Int,
  into y: UnsafeMutablePointer<Double>
) {
  guard K > 0 else { return }
  y.update(repeating: 0, count: K)
  let blockMax = 2048
  let tail = K & 3
  var remaining = K & ~3
  var offset = 0
  let fourRowRows = K & ~3
  while remaining > 0 {
    let block = Swift.min(remaining, blockMax)
    var r = 0
    while r < fourRowRows {
      dotFMA4Rows4(a + r * K + offset, K, x + offset, count: block, into: y + r)
      r += 4
    }
    var row = fourRowRows
    if K & 2 != 0 {
      y[row] = y[row] + dotSSE2(a + row * K + offset, x + offset, count: block)
      y[row + 1] = y[row + 1] + dotSSE2(a + (row + 1) * K + offset, x + offset, count: block)
      row += 2
    }
    if K & 1 != 0 {
      y[row] = y[row] + dotSSE1(a + row * K + offset, x + offset, count: block)
    }
    offset += block
    remaining -= block
  }
  if tail == 0 { return }
  let t = offset
  for j in 0..<K {
    let row = a + j * K
    switch tail {
    case 3:
      let e = (row[t + 2]).multipliedAdding(
        x[t + 2], row[t].multipliedAdding(x[t], row[t + 1] * x[t + 1]))
      y[j] = y[j] + e
    case 2:
      y[j] = y[j] + row[t].multipliedAdding(x[t], row[t + 1] * x[t + 1])
    default:
      y[j] = row[t].multipliedAdding(x[t], y[j])
    }
  }
}

extension Double {
  /// `fma(self, factor, addend)`: `self * factor + addend` with one rounding.
  @inline(__always) @usableFromInline
  func multipliedAdding(_ factor: Double, _ addend: Double) -> Double {
    addend.addingProduct(self, factor)
  }
}

/// Four FMA lanes of one row of OpenBLAS Haswell's `dgemv_kernel_4x4`: lane `l` accumulates
/// entries `l, l+4, ...` of the row times `x` with fused multiply-adds.
struct FMALanes {
  var l0 = 0.0
  var l1 = 0.0
  var l2 = 0.0
  var l3 = 0.0

  @inline(__always)
  mutating func add(_ a: UnsafePointer<Double>, _ x: UnsafePointer<Double>) {
    l0 = a[0].multipliedAdding(x[0], l0)
    l1 = a[1].multipliedAdding(x[1], l1)
    l2 = a[2].multipliedAdding(x[2], l2)
    l3 = a[3].multipliedAdding(x[3], l3)
  }

  /// The kernel's per-row result, `(l0 + l2) + (l1 + l3)`.
  @inline(__always) var combined: Double { (l0 + l2) + (l1 + l3) }
}

/// OpenBLAS Haswell `dgemv_kernel_4x4` for the four rows starting at `a` (`stride` apart),
/// added into `y[0..<4]`. The rows are independent, so their FMA chains overlap; each row's four
/// lanes become one vector FMA.
@inline(__always)
private func dotFMA4Rows4(
  _ a: UnsafePointer<Double>, _ stride: Int, _ x: UnsafePointer<Double>, count: Int,
  into y: UnsafeMutablePointer<Double>
) {
  var r0 = FMALanes()
  var r1 = FMALanes()
  var r2 = FMALanes()
  var r3 = FMALanes()
  var i = 0
  while i < count {
    r0.add(a + i, x + i)
    r1.add(a + stride + i, x + i)
    r2.add(a + 2 * stride + i, x + i)
    r3.add(a + 3 * stride + i, x + i)
    i += 4
  }
  y[0] = y[0] + r0.combined
  y[1] = y[1] + r1.combined
  y[2] = y[2] + r2.combined
  y[3] = y[3] + r3.combined
}

/// OpenBLAS `dgemv_kernel_4x2` for one row: one SSE register of two lanes, `mulpd` then `addpd`
/// (no FMA), two entries first when the count is 2 mod 4, then `haddpd`.
@inline(__always)
private func dotSSE2(_ a: UnsafePointer<Double>, _ x: UnsafePointer<Double>, count: Int)
  -> Double
{
  var l0 = 0.0
  var l1 = 0.0
  var i = 0
  if count & 2 != 0 {
    l0 += a[0] * x[0]
    l1 += a[1] * x[1]
    i = 2
  }
  while i < count {
    l0 += a[i] * x[i]
    l1 += a[i + 1] * x[i + 1]
    l0 += a[i + 2] * x[i + 2]
    l1 += a[i + 3] * x[i + 3]
    i += 4
  }
  return l0 + l1
}

/// OpenBLAS `dgemv_kernel_4x1`: two SSE registers (entries `i, i+1` and `i+2, i+3`), added
/// together and then `haddpd`.
@inline(__always)
private func dotSSE1(_ a: UnsafePointer<Double>, _ x: UnsafePointer<Double>, count: Int)
  -> Double
{
  var p0 = 0.0
  var p1 = 0.0
  var q0 = 0.0
  var q1 = 0.0
  var i = 0
  if count & 2 != 0 {
    p0 += a[0] * x[0]
    p1 += a[1] * x[1]
    i = 2
  }
  while i < count {
    p0 += a[i] * x[i]
    p1 += a[i + 1] * x[i + 1]
    q0 += a[i + 2] * x[i + 2]
    q1 += a[i + 3] * x[i + 3]
    i += 4
  }
  return (q0 + p0) + (q1 + p1)
}

/// Whether every value is finite (neither infinite nor NaN), checked on the exponent bits eight
/// values at a time.
@usableFromInline
func allFinite(_ values: UnsafeBufferPointer<Double>) -> Bool {
  guard let base = values.baseAddress else { return true }
  let n = values.count
  let exponent: UInt64 = 0x7ff0_0000_0000_0000
  let raw = UnsafeRawPointer(base)
  var i = 0
  var special = SIMDMask<SIMD8<Int64>>(repeating: false)
  while i + 8 <= n {
    let bits = raw.loadUnaligned(fromByteOffset: i * 8, as: SIMD8<UInt64>.self)
    special .|= (bits & exponent) .== SIMD8(repeating: exponent)
    i += 8
  }
  if any(special) { return false }
  while i < n {
    if !base[i].isFinite { return false }
    i += 1
  }
  return true
}
