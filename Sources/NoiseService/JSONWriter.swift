import Glibc

/// Writes JSON into one growing `malloc` block that becomes the response body without a copy.
///
/// Doubles are written in their shortest round-trip form (Swift's `description`, which Python's
/// `json.loads` reads back to the same bits); integers through a digit table. Only finite
/// doubles are written: callers never produce others, and JSON has no token for them.
public struct JSONWriter {
  private var base: UnsafeMutablePointer<UInt8>
  private var count = 0
  private var capacity: Int

  public init(capacity: Int = 256) {
    self.capacity = Swift.max(capacity, 64)
    base = malloc(self.capacity)!.assumingMemoryBound(to: UInt8.self)
  }

  @inline(__always)
  private mutating func reserve(_ extra: Int) {
    if count + extra > capacity {
      capacity = Swift.max(capacity * 2, count + extra)
      base = realloc(base, capacity)!.assumingMemoryBound(to: UInt8.self)
    }
  }

  @inline(__always)
  public mutating func byte(_ b: UInt8) {
    reserve(1)
    base[count] = b
    count += 1
  }

  public mutating func raw(_ text: StaticString) {
    let n = text.utf8CodeUnitCount
    reserve(n)
    (base + count).update(from: text.utf8Start, count: n)
    count += n
  }

  public mutating func raw(_ text: String) {
    var text = text
    text.withUTF8 { utf8 in
      reserve(utf8.count)
      if let source = utf8.baseAddress { (base + count).update(from: source, count: utf8.count) }
      count += utf8.count
    }
  }

  /// Lets `body` write up to `capacity` bytes in place; it returns how many it wrote.
  public mutating func write(capacity: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
    reserve(capacity)
    count += body(base + count)
  }

  /// Bytes of another JSON document, as they are.
  public mutating func append(_ body: ResponseBody) {
    guard let source = body.base, body.count > 0 else { return }
    reserve(body.count)
    (base + count).update(from: source.assumingMemoryBound(to: UInt8.self), count: body.count)
    count += body.count
  }

  /// A JSON string literal with escapes.
  public mutating func string(_ text: String) {
    byte(UInt8(ascii: "\""))
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": raw("\\\"")
      case "\\": raw("\\\\")
      case "\n": raw("\\n")
      case "\r": raw("\\r")
      case "\t": raw("\\t")
      case _ where scalar.value < 0x20:
        raw("\\u00")
        let hex = Array("0123456789abcdef".utf8)
        byte(hex[Int(scalar.value >> 4)])
        byte(hex[Int(scalar.value & 15)])
      default:
        raw(String(scalar))
      }
    }
    byte(UInt8(ascii: "\""))
  }

  /// `"name":`
  public mutating func key(_ name: StaticString) {
    byte(UInt8(ascii: "\""))
    raw(name)
    raw("\":")
  }

  public mutating func integer<T: BinaryInteger>(_ value: T) {
    reserve(24)
    if value < 0 {
      base[count] = UInt8(ascii: "-")
      count += 1
    }
    unsigned(UInt64(truncatingIfNeeded: value.magnitude))
  }

  @inline(__always)
  private mutating func unsigned(_ value: UInt64) {
    if value < 10 {
      base[count] = UInt8(truncatingIfNeeded: value) &+ 48
      count += 1
      return
    }
    var digits:
      (
        UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
        UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64
      ) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var n = 0
    var v = value
    withUnsafeMutableBytes(of: &digits) { raw in
      let d = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
      while v > 0 {
        d[n] = UInt8(truncatingIfNeeded: v % 10) &+ 48
        v /= 10
        n += 1
      }
      for i in 0..<n { base[count + i] = d[n - 1 - i] }
    }
    count += n
  }

  public mutating func double(_ value: Double) {
    if value == value.rounded(.towardZero) && abs(value) < 1e15 {
      // integral values print like Python floats: 1.0, -0.0
      if value == 0 && value.sign == .minus {
        raw("-0.0")
        return
      }
      integer(Int64(value))
      raw(".0")
      return
    }
    raw(value.description)
  }

  public mutating func bool(_ value: Bool) { value ? raw("true") : raw("false") }

  public mutating func null() { raw("null") }

  public mutating func doubles(_ values: some Collection<Double>) {
    byte(UInt8(ascii: "["))
    var first = true
    for v in values {
      if !first { byte(UInt8(ascii: ",")) }
      first = false
      double(v)
    }
    byte(UInt8(ascii: "]"))
  }

  public mutating func integers<T: BinaryInteger>(_ values: UnsafeBufferPointer<T>) {
    reserve(values.count * 2 + 2)
    byte(UInt8(ascii: "["))
    for (i, v) in values.enumerated() {
      if i > 0 { byte(UInt8(ascii: ",")) }
      integer(v)
    }
    byte(UInt8(ascii: "]"))
  }

  /// The bytes written so far, as a response body (the writer must not be used afterwards).
  public func finish() -> ResponseBody {
    ResponseBody(taking: UnsafeMutableRawPointer(base), count: count)
  }

  /// The bytes written so far, copied (for tests and nested documents).
  public var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

  /// Frees the buffer of a writer that will not be finished.
  public func discard() { free(base) }
}
