/// The NumPy `.npy` format, versions 1.0, 2.0 and 3.0, for label arrays and noise matrices.
///
/// Layout: the magic `\x93NUMPY`, a major and minor version byte, the header length (2 bytes
/// little-endian in 1.0, 4 bytes in 2.0 and 3.0), then the header: a Python dict literal with
/// exactly the keys `descr`, `fortran_order` and `shape` (ASCII in 1.0 and 2.0, UTF-8 in 3.0),
/// padded with spaces and ending in a newline; then the data. Reference: numpy's
/// `numpy/lib/format.py` (NEP 1).
///
/// Accepted element types: signed and unsigned integers of 1, 2, 4 and 8 bytes in either byte
/// order (`<`, `>`, or `|` for single bytes) and, for matrices, `f8`, `f4` and integers. C order
/// is required for 2-D arrays unless `fortran_order` is given, in which case the matrix is
/// transposed back; for 1-D arrays both orders are the same bytes. Anything else, and any
/// header that is not exactly what numpy writes, is rejected with a message that says what is
/// wrong. The reader never reads outside the buffer it is given.
public enum NPY {
  public static let magic: [UInt8] = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]

  public struct DType: Equatable, Sendable {
    public enum Kind: Sendable { case signed, unsigned, float }
    public var kind: Kind
    public var size: Int
    /// Always false for single bytes, which have no byte order (numpy reads `>i1` as `|i1`).
    public var bigEndian: Bool

    public init(kind: Kind, size: Int, bigEndian: Bool) {
      self.kind = kind
      self.size = size
      self.bigEndian = bigEndian && size > 1
    }

    /// numpy's `descr` string, as np.save writes it.
    public var descr: String {
      let order = size == 1 ? "|" : (bigEndian ? ">" : "<")
      let code = kind == .signed ? "i" : kind == .unsigned ? "u" : "f"
      return "\(order)\(code)\(size)"
    }

    static func parse(_ text: String) throws(NPYError) -> DType {
      let scalars = Array(text.unicodeScalars)
      guard scalars.count >= 3 else {
        throw NPYError("descr '\(text.prefix(20))' is not a simple numeric type")
      }
      let order = scalars[0]
      let code = scalars[1]
      guard let size = Int(String(String.UnicodeScalarView(scalars[2...]))) else {
        throw NPYError("descr '\(text.prefix(20))' has no valid item size")
      }
      let kind: Kind
      switch code {
      case "i": kind = .signed
      case "u": kind = .unsigned
      case "f": kind = .float
      default:
        throw NPYError(
          "descr '\(text.prefix(20))': only integer (i, u) and float (f) arrays are accepted")
      }
      switch kind {
      case .signed, .unsigned:
        guard [1, 2, 4, 8].contains(size) else {
          throw NPYError("descr '\(text)': integers must be 1, 2, 4 or 8 bytes")
        }
      case .float:
        guard [4, 8].contains(size) else {
          throw NPYError("descr '\(text)': floats must be f4 or f8")
        }
      }
      switch order {
      case "<": return DType(kind: kind, size: size, bigEndian: false)
      case ">": return DType(kind: kind, size: size, bigEndian: true)
      case "|" where size == 1: return DType(kind: kind, size: size, bigEndian: false)
      case "=": return DType(kind: kind, size: size, bigEndian: false)
      default:
        throw NPYError("descr '\(text)': the byte order must be '<', '>' or, for single bytes, '|'")
      }
    }
  }

  public struct Header: Equatable, Sendable {
    public var version: (UInt8, UInt8)
    public var dtype: DType
    public var fortranOrder: Bool
    public var shape: [Int]
    /// Where the data starts.
    public var dataOffset: Int

    public var count: Int { shape.reduce(1, *) }

    public static func == (a: Header, b: Header) -> Bool {
      a.version == b.version && a.dtype == b.dtype && a.fortranOrder == b.fortranOrder
        && a.shape == b.shape && a.dataOffset == b.dataOffset
    }
  }

  /// Whether `bytes` begin with the `.npy` magic string.
  public static func looksLikeNPY(_ bytes: UnsafeRawBufferPointer) -> Bool {
    bytes.count >= 6 && zip(bytes.prefix(6), magic).allSatisfy { $0 == $1 }
  }

  /// Parses and checks the header, including that the data is exactly as long as the shape
  /// and element size say.
  public static func header(_ bytes: UnsafeRawBufferPointer) throws(NPYError) -> Header {
    guard bytes.count >= 10 else {
      throw NPYError("the file is shorter than an .npy header (\(bytes.count) bytes)")
    }
    guard looksLikeNPY(bytes) else {
      throw NPYError("the file does not start with the .npy magic string \\x93NUMPY")
    }
    let major = bytes[6]
    let minor = bytes[7]
    let lengthBytes: Int
    switch major {
    case 1: lengthBytes = 2
    case 2, 3: lengthBytes = 4
    default:
      throw NPYError("format version \(major).\(minor) is not supported (1.0, 2.0 and 3.0 are)")
    }
    guard minor == 0 else {
      throw NPYError("format version \(major).\(minor) is not supported (1.0, 2.0 and 3.0 are)")
    }
    guard bytes.count >= 8 + lengthBytes else {
      throw NPYError("the header length field is truncated")
    }
    var headerLength = 0
    for i in 0..<lengthBytes { headerLength |= Int(bytes[8 + i]) << (8 * i) }
    let start = 8 + lengthBytes
    guard headerLength <= bytes.count - start else {
      throw NPYError(
        "the header claims \(headerLength) bytes but the file has only \(bytes.count - start) after it"
      )
    }
    guard headerLength <= 1 << 16 else { throw NPYError("the header is longer than 65536 bytes") }
    let raw = bytes[start..<(start + headerLength)]
    if major < 3 && raw.contains(where: { $0 >= 0x80 }) {
      throw NPYError("the header of a version \(major).0 file must be ASCII")
    }
    guard let text = String(validating: raw, as: UTF8.self) else {
      throw NPYError("the header is not valid UTF-8")
    }
    guard text.hasSuffix("\n") else { throw NPYError("the header does not end with a newline") }
    let dict = try HeaderDictionary.parse(text)
    let dataOffset = start + headerLength
    let dtype = try DType.parse(dict.descr)
    var total = 1
    for dimension in dict.shape {
      guard dimension >= 0 else { throw NPYError("shape has a negative dimension") }
      let (product, overflow) = total.multipliedReportingOverflow(by: dimension)
      guard !overflow else { throw NPYError("shape is too large") }
      total = product
    }
    let (dataBytes, overflow) = total.multipliedReportingOverflow(by: dtype.size)
    guard !overflow, dataBytes == bytes.count - dataOffset else {
      throw NPYError(
        "the shape \(dict.shape) of \(dtype.descr) needs \(overflow ? "too many" : String(dataBytes)) data bytes, the file has \(bytes.count - dataOffset)"
      )
    }
    return Header(
      version: (major, minor), dtype: dtype, fortranOrder: dict.fortranOrder, shape: dict.shape,
      dataOffset: dataOffset)
  }

  /// Reads element `i` as a 64-bit integer (integer dtypes only). Unsigned 8-byte values above
  /// Int64.max come back negative, which any label check rejects.
  @inline(__always)
  static func integer(_ data: UnsafeRawPointer, _ i: Int, _ dtype: DType) -> Int64 {
    let p = data + i * dtype.size
    switch (dtype.size, dtype.kind) {
    case (1, .signed): return Int64(p.load(as: Int8.self))
    case (1, _): return Int64(p.load(as: UInt8.self))
    case (2, .signed):
      let v = p.loadUnaligned(as: Int16.self)
      return Int64(dtype.bigEndian ? Int16(bigEndian: v) : Int16(littleEndian: v))
    case (2, _):
      let v = p.loadUnaligned(as: UInt16.self)
      return Int64(dtype.bigEndian ? UInt16(bigEndian: v) : UInt16(littleEndian: v))
    case (4, .signed):
      let v = p.loadUnaligned(as: Int32.self)
      return Int64(dtype.bigEndian ? Int32(bigEndian: v) : Int32(littleEndian: v))
    case (4, _):
      let v = p.loadUnaligned(as: UInt32.self)
      return Int64(dtype.bigEndian ? UInt32(bigEndian: v) : UInt32(littleEndian: v))
    default:
      let v = p.loadUnaligned(as: UInt64.self)
      return Int64(bitPattern: dtype.bigEndian ? UInt64(bigEndian: v) : UInt64(littleEndian: v))
    }
  }

  @inline(__always)
  static func double(_ data: UnsafeRawPointer, _ i: Int, _ dtype: DType) -> Double {
    let p = data + i * dtype.size
    switch (dtype.kind, dtype.size) {
    case (.float, 8):
      let bits = p.loadUnaligned(as: UInt64.self)
      return Double(
        bitPattern: dtype.bigEndian ? UInt64(bigEndian: bits) : UInt64(littleEndian: bits))
    case (.float, _):
      let bits = p.loadUnaligned(as: UInt32.self)
      return Double(
        Float(bitPattern: dtype.bigEndian ? UInt32(bigEndian: bits) : UInt32(littleEndian: bits)))
    default:
      return Double(integer(data, i, dtype))
    }
  }

  /// A square or rectangular 2-D array of numbers as row-major doubles.
  public static func matrix(_ bytes: UnsafeRawBufferPointer) throws(NPYError) -> (
    values: [Double], rows: Int, columns: Int
  ) {
    let h = try header(bytes)
    guard h.shape.count == 2 else {
      throw NPYError("a matrix must be 2-D, this array has shape \(h.shape)")
    }
    let rows = h.shape[0]
    let columns = h.shape[1]
    let data = bytes.baseAddress! + h.dataOffset
    var values = [Double](repeating: 0, count: rows * columns)
    for r in 0..<rows {
      for c in 0..<columns {
        // Fortran order stores column after column
        let source = h.fortranOrder ? c * rows + r : r * columns + c
        values[r * columns + c] = double(data, source, h.dtype)
      }
    }
    return (values, rows, columns)
  }

  /// A 1-D integer array.
  public static func labels(_ bytes: UnsafeRawBufferPointer) throws(NPYError) -> Header {
    let h = try header(bytes)
    guard h.shape.count == 1 else {
      throw NPYError("true_labels must be 1-D, this array has shape \(h.shape)")
    }
    guard h.dtype.kind != .float else {
      throw NPYError("true_labels must hold integers, this array is \(h.dtype.descr)")
    }
    return h
  }

  /// A version 1.0 header for a 1-D array of `count` elements of `dtype`, padded so that the
  /// data starts at a multiple of 64 bytes.
  public static func header(dtype: DType, count: Int) -> [UInt8] {
    var dict = "{'descr': '\(dtype.descr)', 'fortran_order': False, 'shape': (\(count),), }"
    let unpadded = 10 + dict.utf8.count + 1
    dict += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    let length = dict.utf8.count
    return magic + [1, 0, UInt8(length & 0xff), UInt8(length >> 8)] + Array(dict.utf8)
  }

  /// Writes `value` as element `i` in `dtype`'s size and byte order.
  @inline(__always)
  static func store(_ value: Int64, _ data: UnsafeMutableRawPointer, _ i: Int, _ dtype: DType) {
    let p = data + i * dtype.size
    switch dtype.size {
    case 1: p.storeBytes(of: UInt8(truncatingIfNeeded: value), as: UInt8.self)
    case 2:
      let v = UInt16(truncatingIfNeeded: value)
      p.storeBytes(of: dtype.bigEndian ? v.bigEndian : v.littleEndian, as: UInt16.self)
    case 4:
      let v = UInt32(truncatingIfNeeded: value)
      p.storeBytes(of: dtype.bigEndian ? v.bigEndian : v.littleEndian, as: UInt32.self)
    default:
      let v = UInt64(bitPattern: value)
      p.storeBytes(of: dtype.bigEndian ? v.bigEndian : v.littleEndian, as: UInt64.self)
    }
  }
}

/// Why an `.npy` file was rejected.
public struct NPYError: Error, CustomStringConvertible, Sendable, Equatable {
  public var description: String
  init(_ description: String) { self.description = description }
}

/// The header's dict literal: `{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }`.
struct HeaderDictionary {
  var descr = ""
  var fortranOrder = false
  var shape: [Int] = []

  static func parse(_ text: String) throws(NPYError) -> HeaderDictionary {
    var scanner = Scanner(Array(text.utf8))
    var result = HeaderDictionary()
    var seen: Set<String> = []
    try scanner.expect(UInt8(ascii: "{"))
    while true {
      scanner.skipSpaces()
      if scanner.peek == UInt8(ascii: "}") {
        scanner.position += 1
        break
      }
      let key = try scanner.string()
      try scanner.expect(UInt8(ascii: ":"))
      guard seen.insert(key).inserted else {
        throw NPYError("the header repeats the key '\(key.prefix(20))'")
      }
      switch key {
      case "descr": result.descr = try scanner.string()
      case "fortran_order": result.fortranOrder = try scanner.boolean()
      case "shape": result.shape = try scanner.tuple()
      default: throw NPYError("the header has an unexpected key '\(key.prefix(20))'")
      }
      scanner.skipSpaces()
      if scanner.peek == UInt8(ascii: ",") { scanner.position += 1 }
    }
    scanner.skipSpaces()
    guard scanner.atEnd else { throw NPYError("the header has text after its closing brace") }
    guard seen == ["descr", "fortran_order", "shape"] else {
      throw NPYError("the header must have exactly the keys 'descr', 'fortran_order' and 'shape'")
    }
    return result
  }

  struct Scanner {
    let bytes: [UInt8]
    var position = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { position >= bytes.count }
    var peek: UInt8? { atEnd ? nil : bytes[position] }

    mutating func skipSpaces() {
      while let b = peek, b == 0x20 || b == 0x0a || b == 0x09 || b == 0x0d { position += 1 }
    }

    mutating func expect(_ byte: UInt8) throws(NPYError) {
      skipSpaces()
      guard peek == byte else {
        throw NPYError(
          "the header is not a dict literal: expected '\(Character(UnicodeScalar(byte)))' at byte \(position)"
        )
      }
      position += 1
    }

    mutating func string() throws(NPYError) -> String {
      skipSpaces()
      guard let quote = peek, quote == UInt8(ascii: "'") || quote == UInt8(ascii: "\"") else {
        throw NPYError(
          "the header is not a dict literal: expected a quoted string at byte \(position)")
      }
      position += 1
      let start = position
      while let b = peek, b != quote {
        if b == UInt8(ascii: "\\") {
          throw NPYError("escapes are not expected in the header strings")
        }
        position += 1
      }
      guard peek == quote else { throw NPYError("the header has an unterminated string") }
      let value = String(decoding: bytes[start..<position], as: UTF8.self)
      position += 1
      return value
    }

    mutating func boolean() throws(NPYError) -> Bool {
      skipSpaces()
      if bytes[position...].starts(with: Array("True".utf8)) {
        position += 4
        return true
      }
      if bytes[position...].starts(with: Array("False".utf8)) {
        position += 5
        return false
      }
      throw NPYError("fortran_order must be True or False")
    }

    mutating func tuple() throws(NPYError) -> [Int] {
      try expect(UInt8(ascii: "("))
      var values: [Int] = []
      var commas = 0
      while true {
        skipSpaces()
        if peek == UInt8(ascii: ")") {
          position += 1
          // as in Python, (3) is a number and (3,) a tuple
          if values.count == 1 && commas == 0 {
            throw NPYError("shape must be a tuple, such as (3,)")
          }
          return values
        }
        let start = position
        while let b = peek, b >= 0x30 && b <= 0x39 { position += 1 }
        guard position > start, position - start <= 18,
          let value = Int(String(decoding: bytes[start..<position], as: UTF8.self))
        else { throw NPYError("shape must be a tuple of non-negative integers") }
        values.append(value)
        skipSpaces()
        if peek == UInt8(ascii: ",") {
          position += 1
          commas += 1
        } else if peek != UInt8(ascii: ")") {
          throw NPYError("shape must be a tuple of non-negative integers")
        }
        guard values.count <= 32 else { throw NPYError("shape has more than 32 dimensions") }
      }
    }
  }
}
