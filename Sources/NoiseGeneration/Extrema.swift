/// The first smallest and first largest entries of a buffer of doubles while single entries
/// change: what cleanlab's adjustment loops ask of `np.argmin`/`np.argmax` and Python's
/// `min`/`max` once per iteration.
///
/// Both implementations order entries by value and break ties by the lower index, so they agree
/// with a left-to-right scan that replaces its candidate only on a strictly smaller (larger)
/// value. That order is total for non-NaN values, which is all the callers produce: their inputs
/// are checked finite and their arithmetic stays finite.
///
/// - ``LinearExtrema`` rescans the buffer after a change: O(n) per query, nothing to build.
/// - ``BlockTreeExtrema`` keeps a tournament tree over blocks of 64 entries: O(n) to build,
///   O(64 + log(n / 64)) per change and O(1) per query, and 32 bytes per block.
///
/// ``makeExtrema(_:)`` picks the scan below ``extremaTreeThreshold`` entries, where a scan
/// costs less than building a tree.
protocol ExtremaTracker {
  /// The index of the first smallest entry.
  mutating func minIndex() -> Int
  /// The index of the first largest entry.
  mutating func maxIndex() -> Int
  /// Records that the entry at `index` has changed.
  mutating func changed(at index: Int)
}

/// Buffers with at least this many entries get a ``BlockTreeExtrema``.
let extremaTreeThreshold = 1024

/// A left-to-right scan, repeated lazily after each change.
struct LinearExtrema: ExtremaTracker {
  let values: UnsafeMutableBufferPointer<Double>
  private var stale = true
  private var first = (min: 0, max: 0)

  /// `values` must not be empty and must outlive the tracker.
  init(_ values: UnsafeMutableBufferPointer<Double>) { self.values = values }

  mutating func minIndex() -> Int {
    refresh()
    return first.min
  }

  mutating func maxIndex() -> Int {
    refresh()
    return first.max
  }

  mutating func changed(at index: Int) { stale = true }

  private mutating func refresh() {
    if !stale { return }
    var minIndex = 0
    var maxIndex = 0
    var minValue = values[0]
    var maxValue = values[0]
    for i in 1..<values.count {
      let v = values[i]
      if v < minValue {
        minValue = v
        minIndex = i
      }
      if v > maxValue {
        maxValue = v
        maxIndex = i
      }
    }
    first = (minIndex, maxIndex)
    stale = false
  }
}

/// A tournament tree whose leaves are the first extremes of 64-entry blocks.
///
/// The tree is the implicit bottom-up kind: leaf `b` sits at `blocks + b`, node `i` holds the
/// winner of nodes `2i` and `2i + 1`, and node 1 is the winner over all leaves. It needs no
/// power-of-two padding because the order (value, then index) is total, so the shape of the
/// tournament cannot change the winner.
struct BlockTreeExtrema: ExtremaTracker {
  static let blockShift = 6

  let values: UnsafeMutableBufferPointer<Double>
  private let blocks: Int
  private var minTree: [Int]
  private var maxTree: [Int]

  /// `values` must not be empty and must outlive the tracker.
  init(_ values: UnsafeMutableBufferPointer<Double>) {
    self.values = values
    blocks = (values.count + (1 << Self.blockShift) - 1) >> Self.blockShift
    minTree = [Int](repeating: 0, count: 2 * blocks)
    maxTree = [Int](repeating: 0, count: 2 * blocks)
    for b in 0..<blocks { scanBlock(b) }
    var node = blocks - 1
    while node >= 1 {
      pull(node)
      node -= 1
    }
  }

  func minIndex() -> Int { minTree[1] }
  func maxIndex() -> Int { maxTree[1] }

  mutating func changed(at index: Int) {
    let block = index >> Self.blockShift
    scanBlock(block)
    var node = (blocks + block) >> 1
    while node >= 1 {
      pull(node)
      node >>= 1
    }
  }

  private mutating func scanBlock(_ block: Int) {
    let start = block << Self.blockShift
    let end = Swift.min(start + (1 << Self.blockShift), values.count)
    var minIndex = start
    var maxIndex = start
    var minValue = values[start]
    var maxValue = values[start]
    for i in (start + 1)..<end {
      let v = values[i]
      if v < minValue {
        minValue = v
        minIndex = i
      }
      if v > maxValue {
        maxValue = v
        maxIndex = i
      }
    }
    minTree[blocks + block] = minIndex
    maxTree[blocks + block] = maxIndex
  }

  private mutating func pull(_ node: Int) {
    let (l, r) = (2 * node, 2 * node + 1)
    let (minL, minR) = (minTree[l], minTree[r])
    let (vMinL, vMinR) = (values[minL], values[minR])
    minTree[node] = vMinR < vMinL || (vMinR == vMinL && minR < minL) ? minR : minL
    let (maxL, maxR) = (maxTree[l], maxTree[r])
    let (vMaxL, vMaxR) = (values[maxL], values[maxR])
    maxTree[node] = vMaxR > vMaxL || (vMaxR == vMaxL && maxR < maxL) ? maxR : maxL
  }
}
