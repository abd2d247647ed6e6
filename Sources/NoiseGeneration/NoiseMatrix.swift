/// A `K×K` noise matrix `P(label = row | true_label = column)`, stored row-major.
///
/// As in cleanlab, rows are the noisy label and columns the true label, so each column of a
/// proper noise matrix sums to 1. The type itself only guarantees the square shape; functions
/// that need more (finite entries, for instance) check it and throw.
public struct NoiseMatrix: Equatable, Sendable {
  /// The number of classes.
  public let K: Int
  /// The entries, row after row: `entries[row * K + column]`.
  public internal(set) var entries: [Double]

  /// The matrix with these row-major entries.
  ///
  /// - Throws: ``NoiseGenerationError/shapeMismatch(argument:expected:actual:)`` unless
  ///   `entries.count == K * K`.
  public init(K: Int, entries: [Double]) throws(NoiseGenerationError) {
    guard K >= 0, K <= Self.maxClasses, entries.count == K * K else {
      throw .shapeMismatch(
        argument: "noise_matrix", expected: "(K, K) with K = \(K)",
        actual: "\(entries.count) entries")
    }
    self.K = K
    self.entries = entries
  }

  /// The matrix with these rows.
  ///
  /// - Throws: ``NoiseGenerationError/shapeMismatch(argument:expected:actual:)`` unless every
  ///   row has as many entries as there are rows.
  public init(rows: [[Double]]) throws(NoiseGenerationError) {
    let K = rows.count
    if let bad = rows.firstIndex(where: { $0.count != K }) {
      throw .shapeMismatch(
        argument: "noise_matrix", expected: "(\(K), \(K))",
        actual: "row \(bad) with \(rows[bad].count) entries")
    }
    try self.init(K: K, entries: rows.flatMap { $0 })
  }

  /// An all-zero `K×K` matrix (`np.zeros((K, K))`).
  init(zeros K: Int) {
    self.K = K
    self.entries = [Double](repeating: 0, count: K * K)
  }

  /// The largest `K` a matrix may have: 4096 classes, a 128 MiB matrix. cleanlab's
  /// algorithms are quadratic or worse in `K`, so larger inputs are rejected rather than
  /// allowed to exhaust memory.
  public static let maxClasses = 4096

  /// The entry at `row` (noisy label) and `column` (true label).
  public subscript(row: Int, column: Int) -> Double {
    get { entries[row * K + column] }
    set { entries[row * K + column] = newValue }
  }

  /// The matrix as nested rows, like `ndarray.tolist()`.
  public var rows: [[Double]] {
    (0..<K).map { r in Array(entries[(r * K)..<((r + 1) * K)]) }
  }

  /// `np.rot90(m, k=2)`: both axes reversed.
  func rotated180() -> NoiseMatrix {
    var result = self
    result.entries.reverse()
    return result
  }
}
